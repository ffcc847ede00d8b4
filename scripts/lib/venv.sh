# A pinned Python venv for a test dependency, sourced by scripts/moto.sh and
# scripts/toxiproxy-client.sh.
#
#   venv_install WHO VENV STAMP PIN...
#
# creates (once) the venv VENV with exactly the PINs, recorded in the stamp file STAMP (a change
# of the pins reinstalls). It is safe to run from several processes at once: an exclusive lock on
# VENV.lock is held while installing, and a process that waited finds the install done. WHO names
# the calling script in messages. Callers check what the packages should provide afterwards.

# Whether VENV has exactly these pins.
venv_pinned() {
    local venv="$1" stamp="$2"
    shift 2
    [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$*" ]]
}

venv_install() {
    local who="$1" venv="$2" stamp="$3"
    shift 3
    venv_pinned "$venv" "$stamp" "$@" && return
    command -v python3 >/dev/null || { echo "$who: python3 not found" >&2; exit 1; }
    mkdir -p "$(dirname "$venv")"
    # Serialize concurrent first-time installs: the lock is released when this process exits.
    local lock="$venv.lock"
    if command -v flock >/dev/null; then
        exec 9>"$lock"
        flock 9
    else
        # No flock(1) (e.g. macOS): a lock directory, taken over when older than 10 minutes.
        local waited=0
        until mkdir "$lock.d" 2>/dev/null; do
            if [[ -n "$(find "$lock.d" -maxdepth 0 -mmin +10 2>/dev/null)" ]]; then
                rmdir "$lock.d" 2>/dev/null || true
                continue
            fi
            sleep 1
            waited=$((waited + 1))
            ((waited < 900)) || { echo "$who: timed out waiting for $lock.d" >&2; exit 1; }
        done
        # shellcheck disable=SC2064 # the path is fixed now
        trap "rmdir '$lock.d' 2>/dev/null || true" EXIT
    fi
    # Another process may have finished the install while this one waited.
    venv_pinned "$venv" "$stamp" "$@" && return
    echo "$who: installing $* into $venv" >&2
    rm -f "$stamp"
    if [[ ! -x "$venv/bin/python" ]]; then
        rm -rf "$venv"
        python3 -m venv "$venv" >&2 || { echo "$who: python3 -m venv failed" >&2; exit 1; }
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --retries 2 \
        --timeout 60 "$@" >&2 || { echo "$who: pip install $* failed" >&2; exit 1; }
    echo "$*" >"$stamp"
}
