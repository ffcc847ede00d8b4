//! The API through real HTTP on loopback: Toxiproxy's endpoints, statuses and shapes, the
//! errors, the seed, the flags.

use super::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// An echo upstream, as `host:port`.
async fn echo() -> String {
    crate::target::proxy::tests::support::echo()
        .await
        .to_string()
}

struct Api {
    base: String,
    client: reqwest::Client,
    handle: ServerHandle,
}

async fn api(seed: u64) -> Api {
    crate::tls::install_provider();
    let server = Server::bind("127.0.0.1:0", Registry::with_seed(seed))
        .await
        .unwrap();
    Api {
        base: server.url(),
        client: reqwest::Client::new(),
        handle: server.spawn(),
    }
}

impl Api {
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
        };
        (status, value)
    }

    async fn create(&self, name: &str, upstream: &str) -> Value {
        let (s, v) = self
            .call(
                "POST",
                "/proxies",
                Some(json!({"name": name, "upstream": upstream, "listen": "127.0.0.1:0"})),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        v
    }
}

/// The time of one round trip through `listen` (a new connection each time).
async fn round_trip(listen: &str) -> std::io::Result<Duration> {
    let mut s = TcpStream::connect(listen).await?;
    let start = Instant::now();
    s.write_all(b"ping").await?;
    let mut buf = [0; 4];
    s.read_exact(&mut buf).await?;
    assert_eq!(&buf, b"ping");
    Ok(start.elapsed())
}

/// Waits until connecting to `listen` is refused (`refused`) or accepted.
async fn wait_refused(listen: &str, refused: bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = TcpStream::connect(listen).await.is_err();
        if now == refused {
            return;
        }
        assert!(Instant::now() < deadline, "{listen}: refused stayed {now}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn listen_of(v: &Value) -> String {
    v["listen"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn proxies_are_created_listed_shown_and_deleted() {
    let api = api(1).await;
    let up = echo().await;
    let p = api.create("db", &up).await;
    assert_eq!(p["name"], "db");
    assert_eq!(p["upstream"], up.as_str());
    assert_eq!(p["enabled"], true);
    assert_eq!(p["toxics"], json!([]));
    let listen = listen_of(&p);
    assert!(!listen.ends_with(":0"), "{listen}");
    round_trip(&listen).await.unwrap();

    let (s, v) = api
        .call(
            "POST",
            "/proxies",
            Some(json!({"name": "db", "upstream": up})),
        )
        .await;
    assert_eq!((s, v["status"].as_u64()), (409, Some(409)), "{v}");
    let msg = v["error"].as_str().unwrap();
    assert!(msg.starts_with("proxy already exists: proxy `db`"), "{msg}");

    let (s, all) = api.call("GET", "/proxies", None).await;
    assert_eq!(s, 200);
    assert_eq!(all["db"], p);
    let (s, one) = api.call("GET", "/proxies/db", None).await;
    assert_eq!((s, one), (200, p));

    let (s, v) = api.call("GET", "/proxies/dB", None).await;
    assert_eq!(s, 404);
    assert_eq!(
        v["error"],
        "proxy not found: no proxy `dB`; the proxies are `db`"
    );
    let (s, v) = api.call("DELETE", "/proxies/db", None).await;
    assert_eq!((s, v), (204, Value::Null));
    wait_refused(&listen, true).await;
    let (s, v) = api.call("DELETE", "/proxies/db", None).await;
    assert_eq!(s, 404);
    assert_eq!(
        v["error"],
        "proxy not found: no proxy `db`; there are no proxies"
    );
    let (_, all) = api.call("GET", "/proxies", None).await;
    assert_eq!(all, json!({}));
    api.handle.shutdown().await;
}

#[tokio::test]
async fn bad_proxy_bodies_are_400_naming_the_field() {
    let api = api(1).await;
    let cases = [
        (
            json!({"name": "db"}),
            "missing required field: `upstream` of proxy `db` is missing or empty",
        ),
        (
            json!({"upstream": "127.0.0.1:1"}),
            "missing required field: `name` of the proxy is missing or empty",
        ),
        (
            json!({"name": "db", "upstrem": "127.0.0.1:1"}),
            "missing required field: `upstream` of proxy `db` is missing or empty (unknown \
             fields, ignored: upstrem; the fields are name, listen, upstream, enabled)",
        ),
        (
            json!({"name": "db", "upstream": "127.0.0.1:1", "enabled": "yes"}),
            "bad request body: `enabled` of proxy `db` must be true or false (got \"yes\")",
        ),
        (
            json!({"name": "db", "upstream": 5}),
            "bad request body: `upstream` of proxy `db` must be a string (got 5)",
        ),
    ];
    for (body, want) in cases {
        let (s, v) = api.call("POST", "/proxies", Some(body)).await;
        assert_eq!((s, v["error"].as_str().unwrap()), (400, want));
        assert_eq!(v["status"], 400);
    }
    let res = api
        .client
        .post(format!("{}/proxies", api.base))
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let v: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .starts_with("bad request body: not JSON: key must be a string"),
        "{v}"
    );
    let (s, v) = api
        .call(
            "POST",
            "/proxies",
            Some(json!({"name": "db", "upstream": "no-such-host.invalid:1"})),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("proxy `db`: upstream `no-such-host.invalid:1` does not resolve"),
        "{v}"
    );
}

#[tokio::test]
async fn toxics_are_added_measured_updated_listed_and_removed() {
    let api = api(1).await;
    let up = echo().await;
    let listen = listen_of(&api.create("db", &up).await);
    let (s, t) = api
        .call(
            "POST",
            "/proxies/db/toxics",
            Some(json!({"type": "latency", "attributes": {"latency": 200}})),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(
        t,
        json!({"name": "latency_downstream", "type": "latency", "stream": "downstream",
               "toxicity": 1.0, "attributes": {"latency": 200, "jitter": 0}})
    );
    let d = round_trip(&listen).await.unwrap();
    assert!(d >= Duration::from_millis(190), "{d:?}");

    let (s, t) = api
        .call(
            "PATCH",
            "/proxies/db/toxics/latency_downstream",
            Some(json!({"attributes": {"latency": 20}})),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["attributes"], json!({"latency": 20, "jitter": 0}));
    let d = round_trip(&listen).await.unwrap();
    assert!(d < Duration::from_millis(180), "{d:?}");

    let (s, _) = api
        .call(
            "POST",
            "/proxies/db/toxics",
            Some(
                json!({"name": "slow", "type": "bandwidth", "stream": "upstream",
                        "attributes": {"rate": 100}}),
            ),
        )
        .await;
    assert_eq!(s, 200);
    // Toxiproxy's order: upstream toxics first.
    let (s, list) = api.call("GET", "/proxies/db/toxics", None).await;
    assert_eq!(s, 200);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["slow", "latency_downstream"]);
    let (_, p) = api.call("GET", "/proxies/db", None).await;
    assert_eq!(p["toxics"], list);
    let (s, t) = api.call("GET", "/proxies/db/toxics/slow", None).await;
    assert_eq!((s, &t["attributes"]["rate"]), (200, &json!(100)));

    // Errors: 409, 400 naming proxy, toxic and field, 404 naming what there is.
    let (s, v) = api
        .call(
            "POST",
            "/proxies/db/toxics",
            Some(json!({"type": "latency"})),
        )
        .await;
    assert_eq!(s, 409);
    assert_eq!(
        v["error"],
        "toxic already exists: proxy `db`, toxic `latency_downstream`: a toxic of this name \
         already exists on the proxy"
    );
    let (s, v) = api
        .call(
            "POST",
            "/proxies/db/toxics",
            Some(json!({"name": "x", "type": "latency", "attributes": {"latency": -1}})),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(
        v["error"],
        "bad request body: proxy `db`, toxic `x`: `latency` must not be negative (got -1)"
    );
    let (s, v) = api
        .call(
            "POST",
            "/proxies/db/toxics",
            Some(json!({"type": "latncy"})),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .starts_with("invalid toxic type: proxy `db`, toxic `latncy_downstream`"),
        "{v}"
    );
    let (s, v) = api
        .call(
            "PATCH",
            "/proxies/db/toxics/slow",
            Some(json!({"toxicity": 2})),
        )
        .await;
    assert_eq!(s, 400);
    assert!(v["error"].as_str().unwrap().contains("`toxicity`"), "{v}");
    let (s, v) = api.call("GET", "/proxies/db/toxics/nope", None).await;
    assert_eq!(s, 404);
    assert_eq!(
        v["error"],
        "toxic not found: proxy `db` has no toxic `nope`; the toxics are `slow`, \
         `latency_downstream`"
    );
    let (s, _) = api
        .call(
            "POST",
            "/proxies/nope/toxics",
            Some(json!({"type": "latency"})),
        )
        .await;
    assert_eq!(s, 404);

    let (s, _) = api.call("DELETE", "/proxies/db/toxics/slow", None).await;
    assert_eq!(s, 204);
    let (s, _) = api.call("DELETE", "/proxies/db/toxics/slow", None).await;
    assert_eq!(s, 404);
    let (_, list) = api.call("GET", "/proxies/db/toxics", None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn disable_enable_move_and_reset() {
    let api = api(1).await;
    let up = echo().await;
    let listen = listen_of(&api.create("db", &up).await);
    api.call(
        "POST",
        "/proxies/db/toxics",
        Some(json!({"type": "latency", "attributes": {"latency": 1}})),
    )
    .await;
    let (s, p) = api
        .call("POST", "/proxies/db", Some(json!({"enabled": false})))
        .await;
    assert_eq!((s, &p["enabled"]), (200, &json!(false)), "{p}");
    assert_eq!(listen_of(&p), listen);
    wait_refused(&listen, true).await;
    let (s, p) = api
        .call("PATCH", "/proxies/db", Some(json!({"enabled": true})))
        .await;
    assert_eq!((s, &p["enabled"]), (200, &json!(true)));
    wait_refused(&listen, false).await;
    round_trip(&listen).await.unwrap();

    // A new upstream on the same listen address: the proxy comes back there, toxics kept.
    let up2 = echo().await;
    let (s, p) = api
        .call("PATCH", "/proxies/db", Some(json!({"upstream": up2})))
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(
        (listen_of(&p), &p["upstream"]),
        (listen.clone(), &json!(up2))
    );
    assert_eq!(p["toxics"].as_array().unwrap().len(), 1);
    round_trip(&listen).await.unwrap();
    // A new listen address.
    let (s, p) = api
        .call(
            "PATCH",
            "/proxies/db",
            Some(json!({"listen": "localhost:0"})),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    let moved = listen_of(&p);
    assert_ne!(moved, listen);
    assert!(!moved.ends_with(":0"), "{moved}");
    round_trip(&moved).await.unwrap();
    assert_eq!(p["toxics"].as_array().unwrap().len(), 1);
    // A listen address taken: 500 as Toxiproxy, and the proxy stays as it was.
    let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let taken_addr = taken.local_addr().unwrap().to_string();
    let (s, v) = api
        .call("PATCH", "/proxies/db", Some(json!({"listen": taken_addr})))
        .await;
    assert_eq!(s, 500, "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains(&format!("proxy `db`: cannot listen on `{taken_addr}`")),
        "{v}"
    );
    let (_, p) = api.call("GET", "/proxies/db", None).await;
    assert_eq!(listen_of(&p), moved);
    assert_eq!(p["toxics"].as_array().unwrap().len(), 1);
    round_trip(&moved).await.unwrap();

    api.call("POST", "/proxies/db", Some(json!({"enabled": false})))
        .await;
    let (s, v) = api.call("POST", "/reset", None).await;
    assert_eq!((s, v), (204, Value::Null));
    let (_, p) = api.call("GET", "/proxies/db", None).await;
    assert_eq!((&p["enabled"], &p["toxics"]), (&json!(true), &json!([])));
    wait_refused(&moved, false).await;
    let (s, _) = api
        .call("PATCH", "/proxies/nope", Some(json!({"enabled": true})))
        .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn populate_creates_keeps_and_replaces() {
    let api = api(1).await;
    let up = echo().await;
    let (s, v) = api
        .call(
            "POST",
            "/populate",
            Some(json!([
                {"name": "a", "upstream": up, "listen": "127.0.0.1:0"},
                {"name": "b", "upstream": up, "enabled": false},
            ])),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let proxies = v["proxies"].as_array().unwrap();
    assert_eq!(proxies.len(), 2);
    assert_eq!(proxies[1]["enabled"], false);
    let a_listen = listen_of(&proxies[0]);
    api.call(
        "POST",
        "/proxies/a/toxics",
        Some(json!({"type": "latency"})),
    )
    .await;
    // Same listen and upstream: kept, toxics and all; port 0 always differs: replaced.
    let (s, v) = api
        .call(
            "POST",
            "/populate",
            Some(json!([
                {"name": "a", "upstream": up, "listen": a_listen},
                {"name": "b", "upstream": up, "listen": "127.0.0.1:0"},
            ])),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["proxies"][0]["toxics"].as_array().unwrap().len(), 1);
    assert_eq!(v["proxies"][1]["enabled"], true);

    // Every entry is checked before any is created.
    let (s, v) = api
        .call(
            "POST",
            "/populate",
            Some(json!([{"name": "c", "upstream": up}, {"name": "d"}])),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(
        v["error"],
        "missing required field: `upstream` of proxy `d` (proxy 2 of the list) is missing or \
         empty"
    );
    let (_, all) = api.call("GET", "/proxies", None).await;
    assert!(all.get("c").is_none(), "{all}");
    let (s, v) = api
        .call("POST", "/populate", Some(json!({"name": "c"})))
        .await;
    assert_eq!(s, 400);
    assert!(
        v["error"].as_str().unwrap().contains("got an object"),
        "{v}"
    );
    // An error midway: the proxies done so far, with the error.
    let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (s, v) = api
        .call(
            "POST",
            "/populate",
            Some(json!([
                {"name": "e", "upstream": up},
                {"name": "f", "upstream": up, "listen": taken.local_addr().unwrap().to_string()},
            ])),
        )
        .await;
    assert_eq!(s, 500, "{v}");
    assert_eq!(v["proxies"].as_array().unwrap().len(), 1);
    assert!(v["error"].as_str().unwrap().contains("proxy `f`"), "{v}");
}

#[tokio::test]
async fn routes_methods_version_and_browsers() {
    let api = api(1).await;
    let (s, v) = api.call("GET", "/version", None).await;
    assert_eq!((s, v), (200, json!({ "version": VERSION })));
    let (s, v) = api.call("GET", "/nope", None).await;
    assert_eq!(s, 404);
    assert!(v["error"].as_str().unwrap().contains("GET /nope"), "{v}");
    let res = api
        .client
        .get(format!("{}/reset", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 405);
    assert_eq!(res.headers()["allow"], "POST");
    let res = api
        .client
        .get(format!("{}/proxies", api.base))
        .header("User-Agent", "Mozilla/5.0")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    // Names are percent-decoded, as in Toxiproxy's router.
    let up = echo().await;
    api.create("with space", &up).await;
    let (s, v) = api.call("GET", "/proxies/with%20space", None).await;
    assert_eq!((s, &v["name"]), (200, &json!("with space")));
}

#[tokio::test]
async fn chaostoolkit_toxiproxy_requests_are_accepted() {
    // The bodies chaostoolkit-toxiproxy 0.3.1 sends (chaostoxi/toxiproxyapi.py).
    let api = api(1).await;
    let up = echo().await;
    let (s, p) = api
        .call(
            "POST",
            "/proxies",
            Some(json!({"name": "ctk", "listen": "0.0.0.0:0", "upstream": up, "enabled": true})),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let port = listen_of(&p).rsplit(':').next().unwrap().to_owned();
    assert!(port.parse::<u16>().is_ok_and(|p| p != 0), "{p}");
    let (s, t) = api
        .call(
            "POST",
            "/proxies/ctk/toxics",
            Some(
                json!({"name": "t", "type": "timeout", "stream": "downstream",
                        "toxicity": 1.0, "attributes": null}),
            ),
        )
        .await;
    assert_eq!((s, &t["name"]), (200, &json!("t")), "{t}");
    let (s, p) = api
        .call("POST", "/proxies/ctk", Some(json!({"enabled": false})))
        .await;
    assert_eq!((s, &p["enabled"]), (200, &json!(false)));
    assert!(p["listen"].as_str().unwrap().ends_with(&format!(":{port}")));
    let (s, _) = api.call("DELETE", "/proxies/ctk/toxics/t", None).await;
    assert_eq!(s, 204);
    let (s, _) = api.call("POST", "/reset", None).await;
    assert_eq!(s, 204);
    let (s, _) = api.call("DELETE", "/proxies/ctk", None).await;
    assert_eq!(s, 204);
}

/// Which of `n` connections the toxic `t` of proxy `s` hit, one connection at a time.
async fn hits(seed: u64, n: usize) -> Vec<bool> {
    let api = api(seed).await;
    let up = echo().await;
    let listen = listen_of(&api.create("s", &up).await);
    let (s, _) = api
        .call(
            "POST",
            "/proxies/s/toxics",
            Some(json!({"name": "t", "type": "latency", "toxicity": 0.5})),
        )
        .await;
    assert_eq!(s, 200);
    let proxy = api.handle.registry().get("s").await.unwrap();
    let mut out = Vec::new();
    let mut before = 0;
    for _ in 0..n {
        round_trip(&listen).await.unwrap();
        let affected = proxy.toxic_stats("t").unwrap().affected;
        out.push(affected > before);
        before = affected;
    }
    out
}

#[tokio::test]
async fn the_seed_seeds_every_toxics_draws() {
    let a = hits(42, 16).await;
    assert_eq!(a, hits(42, 16).await);
    assert_ne!(a, hits(43, 16).await);
    assert!(a.contains(&true) && a.contains(&false), "{a:?}");
}

#[test]
fn flags_are_toxiproxy_servers() {
    assert_eq!(
        parse_args(Vec::<String>::new()).unwrap(),
        Command::Run(Options::default())
    );
    let Command::Run(o) = parse_args([
        "-host",
        "::1",
        "--port",
        "9000",
        "-config=p.json",
        "--seed=-1",
    ])
    .unwrap() else {
        panic!()
    };
    assert_eq!(o.addr(), "[::1]:9000");
    assert_eq!(o.config.as_deref(), Some(std::path::Path::new("p.json")));
    assert_eq!(o.seed, Some(u64::MAX));
    assert_eq!(parse_args(["--help"]).unwrap(), Command::Help);
    assert_eq!(parse_args(["-version"]).unwrap(), Command::Version);
    assert!(matches!(
        parse_args(["-proxy-metrics", "-runtime-metrics=false"]).unwrap(),
        Command::Run(_)
    ));
    for (args, want) in [
        (
            vec!["-port", "http"],
            "flag `-port`: `http` is not a port (0 to 65535)",
        ),
        (vec!["-seed"], "flag `-seed` needs a value"),
        (
            vec!["-seed", "x"],
            "flag `-seed`: `x` is not a whole number",
        ),
        (vec!["serve"], "unexpected argument `serve`"),
        (
            vec!["--verbose"],
            "unknown flag `--verbose`; the flags are -host",
        ),
    ] {
        let e = parse_args(args).unwrap_err().to_string();
        assert!(e.starts_with(want), "{e}");
        assert!(e.ends_with("(run with --help for the flags)"), "{e}");
    }
}

#[test]
fn config_errors_name_the_file_and_the_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.json");
    let e = load_config(&missing).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "config file `{}`: cannot read it",
            missing.display()
        )),
        "{e}"
    );
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "[{\"name\": \"a\",}]").unwrap();
    let e = load_config(&bad).unwrap_err().to_string();
    assert!(e.contains("bad.json`: not JSON: "), "{e}");
    assert!(e.contains("line 1 column"), "{e}");
    std::fs::write(
        &bad,
        r#"[{"name": "a", "upstream": "x:1"}, {"upstream": "y:1"}]"#,
    )
    .unwrap();
    let e = load_config(&bad).unwrap_err().to_string();
    assert!(
        e.ends_with(
            "bad.json`: missing required field: `name` of proxy 2 of the list is missing or empty"
        ),
        "{e}"
    );
    let good = dir.path().join("good.json");
    std::fs::write(
        &good,
        r#"[{"name": "a", "upstream": "x:1", "listen": "127.0.0.1:5"}]"#,
    )
    .unwrap();
    assert_eq!(
        load_config(&good).unwrap(),
        vec![ProxyConfig::new("a", "x:1").listen("127.0.0.1:5")]
    );
}
