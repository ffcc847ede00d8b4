#!/usr/bin/env bash
# moto's server (a local fake of the AWS APIs) for the EC2 target's tests and for trying the EC2
# examples by hand.
#
# Usage:
#   scripts/moto.sh install   creates (once) a Python venv with a pinned moto[ec2,server] and
#                             prints the path of its `moto_server` on the last line of stdout
#   scripts/moto.sh start     installs, then starts one server in the background on a free
#                             loopback port; writes target/moto.env (source it) and target/moto.pid
#   scripts/moto.sh stop      stops the server that `start` started
#
# Environment:
#   CHAOS_MOTO_VENV   the venv directory (default: target/moto-venv, relative to the repo root;
#                     target/ is $CARGO_TARGET_DIR when set)
#
# `install` is idempotent and quick once done (a stamp file records the pinned version; a change
# of the pin reinstalls), and safe to run from several processes at once (an exclusive lock on
# <venv>.lock while installing).
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO_VERSION=5.2.5
PIN="moto[ec2,server]==$MOTO_VERSION"

target="${CARGO_TARGET_DIR:-target}"
venv="${CHAOS_MOTO_VENV:-$target/moto-venv}"
stamp="$venv/.chaos-moto-stamp"
envfile="$target/moto.env"
pidfile="$target/moto.pid"
logfile="$target/moto.log"

# shellcheck source=lib/venv.sh
source scripts/lib/venv.sh

installed() {
    venv_pinned "$venv" "$stamp" "$PIN" && [[ -x "$venv/bin/moto_server" ]]
}

abs_server() {
    echo "$(cd "$venv/bin" && pwd)/moto_server"
}

do_install() {
    if ! installed; then
        venv_install moto.sh "$venv" "$stamp" "$PIN"
        [[ -x "$venv/bin/moto_server" ]] || { echo "moto.sh: no moto_server in $venv/bin" >&2; exit 1; }
    fi
    abs_server
}

running_pid() {
    [[ -f "$pidfile" ]] || return 1
    local pid
    pid="$(cat "$pidfile")"
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    # A stale pid file whose pid now belongs to another program: not ours to stop.
    if [[ -r "/proc/$pid/cmdline" ]] && ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q moto_server; then
        return 1
    fi
    echo "$pid"
}

do_start() {
    local server pid port url python
    server="$(do_install | tail -n 1)"
    if pid="$(running_pid)"; then
        echo "moto.sh: already running (pid $pid); settings in $envfile" >&2
        cat "$envfile"
        return
    fi
    python="$(dirname "$server")/python"
    port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    url="http://127.0.0.1:$port"
    mkdir -p "$target"
    # Its own session, so that it outlives this script and a Ctrl-C in this terminal.
    setsid "$server" -H 127.0.0.1 -p "$port" >"$logfile" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$pidfile"
    local deadline=$((SECONDS + 60))
    until "$python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/moto-api/", timeout=2)' "$url" 2>/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$pidfile"
            echo "moto.sh: moto_server exited; its log ($logfile):" >&2
            cat "$logfile" >&2
            exit 1
        fi
        if ((SECONDS >= deadline)); then
            kill "$pid" 2>/dev/null || true
            rm -f "$pidfile"
            echo "moto.sh: moto_server did not answer at $url within 60 s; its log ($logfile):" >&2
            cat "$logfile" >&2
            exit 1
        fi
        sleep 0.2
    done
    cat >"$envfile" <<EOF
export AWS_ENDPOINT_URL=$url AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true CHAOS_MOTO_URL=$url
EOF
    echo "moto.sh: moto_server running at $url (pid $pid, log $logfile); to use it: source $envfile" >&2
    cat "$envfile"
}

do_stop() {
    local pid
    if ! pid="$(running_pid)"; then
        echo "moto.sh: no server running" >&2
        rm -f "$pidfile" "$envfile"
        return
    fi
    kill "$pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    rm -f "$pidfile" "$envfile"
    echo "moto.sh: stopped moto_server (pid $pid)" >&2
}

case "${1:-}" in
    install) do_install ;;
    start) do_start ;;
    stop) do_stop ;;
    *)
        echo "usage: $0 install|start|stop" >&2
        exit 2
        ;;
esac
