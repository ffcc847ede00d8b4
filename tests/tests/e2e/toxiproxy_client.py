"""Drives the Toxiproxy-compatible server with Toxiproxy's own Python client (toxiproxy-python).

Run by tests/tests/e2e/toxiproxy_client.rs:

    python toxiproxy_client.py API_HOST:API_PORT ECHO_UPSTREAM_HOST:PORT

Each check prints a line; the first failure raises (a traceback, exit status 1). The last line,
on success, is `toxiproxy client: N checks passed`.
"""

import socket
import sys
import time

import requests
from toxiproxy import Toxiproxy
from toxiproxy.api import APIConsumer
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists

checks = 0


def check(what, ok, detail=""):
    global checks
    if not ok:
        raise AssertionError("%s: %s" % (what, detail))
    checks += 1
    print("ok: %s" % what, flush=True)


def host_port(addr):
    host, port = addr.rsplit(":", 1)
    return host.strip("[]"), int(port)


def round_trip(listen):
    """Seconds for one echo round trip through `listen` on a new connection."""
    with socket.create_connection(host_port(listen), timeout=10) as s:
        start = time.monotonic()
        s.sendall(b"ping")
        got = b""
        while len(got) < 4:
            chunk = s.recv(4 - len(got))
            if not chunk:
                raise AssertionError("connection closed after %r" % got)
            got += chunk
        assert got == b"ping", got
        return time.monotonic() - start


def refused(listen):
    try:
        with socket.create_connection(host_port(listen), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def wait_refused(listen, want):
    deadline = time.monotonic() + 5
    while refused(listen) != want:
        if time.monotonic() > deadline:
            raise AssertionError("%s: refused stayed %s" % (listen, not want))
        time.sleep(0.02)


def expect(exc, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except exc as e:
        return str(e)
    raise AssertionError("expected %s from %s" % (exc.__name__, fn))


def main():
    api_host, api_port = host_port(sys.argv[1])
    upstream = sys.argv[2]
    server = Toxiproxy()
    server.update_api_consumer(api_host, api_port)
    base = "http://%s:%s" % (api_host, api_port)

    check("server running", server.running() is True)
    check("version", b'"version"' in server.version(), server.version())
    check("no proxies at first", server.proxies() == {}, server.proxies())

    # Create: the listen address reported is the one bound.
    proxy = server.create(upstream=upstream, name="echo", listen="127.0.0.1:0")
    listen = proxy.listen
    check("created with its real port", not listen.endswith(":0") and proxy.enabled, listen)
    check("listed", set(server.proxies()) == {"echo"})
    base_rtt = round_trip(listen)
    check("echo through the proxy", base_rtt < 0.5, base_rtt)

    # A latency toxic, measured.
    proxy.add_toxic(type="latency", attributes={"latency": 300})
    rtt = round_trip(listen)
    check("latency 300 ms measured", 0.29 <= rtt < 3, rtt)
    toxic = proxy.get_toxic("latency_downstream")
    check(
        "toxic shown",
        toxic is not None and toxic.attributes["latency"] == 300 and toxic.toxicity == 1,
        vars(toxic) if toxic else None,
    )

    # Update (the client has no method for it: its own transport, as Toxiproxy's API takes it).
    updated = APIConsumer.post(
        "/proxies/echo/toxics/latency_downstream", json={"attributes": {"latency": 50}}
    ).json()
    check("toxic updated", updated["attributes"]["latency"] == 50, updated)
    rtt = round_trip(listen)
    check("latency 50 ms measured", 0.045 <= rtt < 0.25, rtt)

    # List and remove.
    proxy.add_toxic(name="slow_up", type="bandwidth", stream="upstream", attributes={"rate": 1000})
    check("two toxics", set(proxy.toxics()) == {"latency_downstream", "slow_up"}, proxy.toxics())
    check("toxic removed", proxy.destroy_toxic("slow_up") and set(proxy.toxics()) == {"latency_downstream"})

    # Errors the client raises, from the statuses.
    msg = expect(ProxyExists, proxy.add_toxic, type="latency")
    check("409 toxic exists", "toxic already exists" in msg and "`echo`" in msg, msg)
    msg = expect(ProxyExists, APIConsumer.post, "/proxies", json={"name": "echo", "upstream": upstream})
    check("409 proxy exists", "proxy already exists" in msg, msg)
    msg = expect(NotFound, APIConsumer.get, "/proxies/nope")
    check("404 proxy", "proxy not found" in msg and "`nope`" in msg, msg)
    msg = expect(NotFound, proxy.destroy_toxic, "nope")
    check("404 toxic", "toxic not found" in msg and "`latency_downstream`" in msg, msg)
    msg = expect(InvalidToxic, proxy.add_toxic, name="bad", type="latency", attributes={"latency": -5})
    check("400 names proxy, toxic, field", "proxy `echo`, toxic `bad`: `latency` must not be negative" in msg, msg)
    msg = expect(InvalidToxic, proxy.add_toxic, type="latncy")
    check("400 unknown type", "unknown toxic type `latncy`" in msg, msg)

    # Disable and enable: refused while disabled.
    proxy.disable()
    wait_refused(listen, True)
    check("refused while disabled", server.get_proxy("echo").enabled is False)
    proxy.enable()
    wait_refused(listen, False)
    check("accepts once enabled", round_trip(listen) < 3 and server.get_proxy("echo").enabled is True)
    with proxy.down():
        wait_refused(listen, True)
        check("down() context", refused(listen))
    wait_refused(listen, False)

    # Reset: enabled, no toxics.
    proxy.disable()
    check("reset", server.reset())
    after = server.get_proxy("echo")
    check("reset enables and clears", after.enabled is True and after.toxics() == {}, after.toxics())
    wait_refused(listen, False)
    rtt = round_trip(listen)
    check("no latency after reset", rtt < 0.045, rtt)

    # Populate: the server's endpoint, then the client's populate (made of creates and destroys).
    res = requests.post(
        base + "/populate",
        json=[
            {"name": "echo", "upstream": upstream, "listen": listen},
            {"name": "other", "upstream": upstream, "listen": "127.0.0.1:0", "enabled": False},
        ],
    )
    body = res.json()
    check("populate 201", res.status_code == 201 and len(body["proxies"]) == 2, body)
    check("populate keeps an unchanged proxy", body["proxies"][0]["listen"] == listen, body)
    check("populate honours enabled", body["proxies"][1]["enabled"] is False, body)
    res = requests.post(base + "/populate", json=[{"name": "x"}])
    check("populate 400", res.status_code == 400 and "`upstream`" in res.json()["error"], res.text)
    created = server.populate([{"name": "third", "upstream": upstream, "listen": "127.0.0.1:0"}])
    check("client populate", len(created) == 1 and "third" in server.proxies(), server.proxies())

    # chaostoolkit-toxiproxy's requests (chaostoxi/toxiproxyapi.py).
    res = requests.post(
        base + "/proxies",
        json={"name": "ctk", "listen": "0.0.0.0:0", "upstream": upstream, "enabled": True},
    )
    check("ctk create", res.ok and res.json()["listen"].split(":")[-1].isdigit(), res.text)
    res = requests.post(
        base + "/proxies/ctk/toxics",
        json={"name": "t", "type": "slicer", "stream": "downstream", "toxicity": 1.0,
              "attributes": {"average_size": 2, "size_variation": 1, "delay": 10}},
    )
    check("ctk toxic", res.ok and res.json()["name"] == "t", res.text)
    res = requests.post(base + "/proxies/ctk", json={"enabled": False})
    check("ctk modify", res.ok and res.json()["enabled"] is False, res.text)
    check("ctk delete toxic", requests.delete(base + "/proxies/ctk/toxics/t").ok)
    check("ctk reset", requests.post(base + "/reset").ok)

    # Destroy.
    check("destroy", proxy.destroy() and "echo" not in server.proxies())
    wait_refused(listen, True)
    server.destroy_all()
    check("destroy_all", server.proxies() == {}, server.proxies())

    print("toxiproxy client: %d checks passed" % checks, flush=True)


if __name__ == "__main__":
    main()
