#!/usr/bin/env bash
# Debian packages the tests use: xmllint (libxml2-utils) to check the harness's JUnit files
# against the JUnit schema; Chromium, with the DejaVu fonts the HTML report names, to open the
# HTML report in a real browser. Installs what is missing with apt-get (CI runs as root); as
# another user, or without apt-get, it says what to install and exits 1.
#
# Usage: scripts/system-packages.sh install
set -euo pipefail

# file that shows the package is installed -> Debian package
declare -A NEEDED=(
    [/usr/bin/xmllint]=libxml2-utils
    [/usr/bin/chromium]=chromium
    [/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf]=fonts-dejavu-core
)

missing=()
for file in "${!NEEDED[@]}"; do
    [[ -e "$file" ]] || missing+=("${NEEDED[$file]}")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
    echo "system-packages.sh: install these Debian packages: ${missing[*]}" >&2
    exit 1
fi
echo "system-packages.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2 || echo "system-packages.sh: apt-get update failed; trying the cached lists" >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
