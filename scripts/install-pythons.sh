#!/usr/bin/env bash
# Installs CPython 3.13, 3.14 and 3.15 for the test matrix into .cache/pythons/<ver>/,
# built by Debian (suite forky) and relocated with patchelf. The system's own apt state,
# dpkg database and libraries are never touched: apt runs with a private configuration and
# each interpreter is pointed at the loader and C libraries unpacked next to it, because the
# newer glibc must not leak into anything else on the machine.
#
# Usage: scripts/install-pythons.sh [--force]   (re-run is cheap: verified prefixes are kept)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEST="$ROOT/.cache/pythons"
SUITE=forky
VERSIONS=(3.13 3.14 3.15)
C_LIBS=(libc6 libexpat1 zlib1g libffi8 libssl3t64 libsqlite3-0 libbz2-1.0 liblzma5 libmpdec4
        libzstd1 libuuid1 libncursesw6 libtinfo6 libreadline8t64 libcrypt1 libgcc-s1
        libdb5.3t64)
# Built for 3.14 in forky: a peer debugger to benchmark against and a real uvloop to test with.
EXTRAS_314=(python3-debugpy python3-uvloop libuv1t64)
STAMP=.tasklens-installed
FORCE=0
[[ ${1:-} == --force ]] && FORCE=1

say() { printf 'install-pythons: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

packages_for() {
    local v=$1
    local pkgs=("python$v" "python$v-minimal" "libpython$v-minimal" "libpython$v-stdlib" "${C_LIBS[@]}")
    [[ $v == 3.14 ]] && pkgs+=("${EXTRAS_314[@]}")
    printf '%s\n' "${pkgs[@]}"
}

python_of() { printf '%s/%s/usr/bin/python%s' "$DEST" "$1" "$1"; }

# Exercises what the tests rely on: the C extensions that pull in relocated libraries, TLS
# setup, and a child started through sys.executable (it must find the same loader).
verify() {
    local v=$1 extra=''
    [[ $v == 3.14 ]] && extra='import debugpy, uvloop'
    "$(python_of "$v")" -I - "$v" "$DEST/$v/usr" <<EOF
import sys
import asyncio, ssl, ctypes, sqlite3, subprocess, decimal, lzma, bz2, zlib, hashlib
$extra
want, prefix = sys.argv[1], sys.argv[2]
assert "%d.%d" % sys.version_info[:2] == want, sys.version
assert sys.prefix == prefix, (sys.prefix, prefix)
ssl.create_default_context()
ctypes.CDLL(None)
sqlite3.connect(":memory:").execute("select 1")
async def main():
    await asyncio.sleep(0)
    return 42
assert asyncio.run(main()) == 42
out = subprocess.run([sys.executable, "-c", "import sys, ssl; print(sys.version_info[:2])"],
                     capture_output=True, text=True, check=True).stdout.strip()
assert out == repr(sys.version_info[:2]), out
EOF
}

installed_ok() {
    local v=$1
    [[ -f $DEST/$v/$STAMP ]] && [[ $(cat "$DEST/$v/$STAMP") == "$(packages_for "$v")" ]] \
        && verify "$v" >/dev/null 2>&1
}

# The mirror is whichever one the machine's own sources use for its own release, so that the
# script works behind whatever mirror or proxy a machine is set up with.
find_mirror() {
    local codename
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    [[ -n $codename ]] || die "cannot tell the Debian release from /etc/os-release"
    local f files=()
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] && files+=("$f")
    done
    ((${#files[@]})) || return 0
    awk -v want="$codename" '
        function flush() {
            if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " want " ") && uris != "" && enabled != "no")
                { split(uris, u, " "); print u[1]; found = 1; exit }
            types = suites = uris = enabled = ""
        }
        FILENAME ~ /\.sources$/ {
            if (FILENAME != current) { flush(); current = FILENAME }
            if ($0 ~ /^[ \t]*$/) { flush(); next }
            if ($0 ~ /^#/) next
            field = tolower($1); sub(/:$/, "", field); $1 = ""; sub(/^ +/, "")
            if (field == "types") types = $0
            else if (field == "suites") suites = $0
            else if (field == "uris") uris = $0
            else if (field == "enabled") enabled = tolower($0)
            next
        }
        $1 == "deb" {
            sub(/\[[^]]*\]/, "")
            if ($3 == want) { print $2; found = 1; exit }
        }
        END { if (!found) flush() }
    ' "${files[@]}"
}

ensure_patchelf() {
    command -v patchelf >/dev/null && return
    [[ $(id -u) == 0 ]] || die "patchelf is missing; install it (apt-get install patchelf) and re-run"
    say "installing patchelf with the system's apt"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q patchelf >/dev/null 2>&1; then
        apt-get update -q >/dev/null
        apt-get install -y -q patchelf >/dev/null
    fi
    command -v patchelf >/dev/null || die "patchelf did not install"
}

APT_DIR="$DEST/.apt"
APT_OPTS=()
setup_private_apt() {
    local mirror keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    mirror=$(find_mirror)
    [[ -n $mirror ]] || die "no Debian mirror found in /etc/apt sources"
    [[ -f $keyring ]] || die "$keyring is missing (package debian-archive-keyring)"
    mkdir -p "$APT_DIR"/{etc/sources.list.d,etc/preferences.d,lists/partial,cache/archives/partial,debs}
    printf 'deb [signed-by=%s] %s %s main\n' "$keyring" "$mirror" "$SUITE" >"$APT_DIR/etc/sources.list"
    : >"$APT_DIR/status"
    APT_OPTS=(
        -o "Dir::Etc::SourceList=$APT_DIR/etc/sources.list"
        -o "Dir::Etc::SourceParts=$APT_DIR/etc/sources.list.d"
        -o "Dir::Etc::PreferencesParts=$APT_DIR/etc/preferences.d"
        -o "Dir::State::Lists=$APT_DIR/lists"
        -o "Dir::State::status=$APT_DIR/status"
        -o "Dir::Cache=$APT_DIR/cache"
        -o "APT::Architecture=amd64"
        -o "APT::Sandbox::User=root"
    )
    say "reading the package index of $SUITE from $mirror"
    apt-get -q "${APT_OPTS[@]}" update >"$APT_DIR/update.log" 2>&1 \
        || { cat "$APT_DIR/update.log" >&2; die "apt-get update of the private configuration failed"; }
}

download() {
    local debs="$APT_DIR/debs"
    rm -f "$debs"/*.deb
    say "downloading: $*"
    (cd "$debs" && apt-get -q "${APT_OPTS[@]}" download "$@" >"$APT_DIR/download.log" 2>&1) \
        || { cat "$APT_DIR/download.log" >&2; die "download failed"; }
}

deb_of() {
    local f=("$APT_DIR/debs/$1"_*.deb)
    [[ ${#f[@]} == 1 && -f ${f[0]} ]] || die "no single .deb for $1"
    printf '%s' "${f[0]}"
}

# Builds the prefix under a temporary name and swaps it in with two renames, so that a test run
# going on at the same time never sees a half-unpacked interpreter.
install_version() {
    local v=$1 pkg
    local prefix="$DEST/$v" stage="$DEST/.stage-$v"
    rm -rf "$stage"
    mkdir -p "$stage"
    say "unpacking $v"
    while read -r pkg; do
        dpkg-deb -x "$(deb_of "$pkg")" "$stage"
    done < <(packages_for "$v")
    local libdir="$prefix/usr/lib/x86_64-linux-gnu"
    [[ -f $stage/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 ]] || die "$v: no loader unpacked"
    patchelf --set-interpreter "$libdir/ld-linux-x86-64.so.2" --force-rpath --set-rpath "$libdir" \
        "$stage/usr/bin/python$v"
    rm -rf "$DEST/.old-$v"
    [[ -e $prefix ]] && mv "$prefix" "$DEST/.old-$v"
    mv "$stage" "$prefix"
    rm -rf "$DEST/.old-$v"
    verify "$v" || die "$v: the installed interpreter fails its checks"
    packages_for "$v" >"$prefix/$STAMP"
    say "installed $(python_of "$v")"
}

main() {
    if ! command -v dpkg-deb >/dev/null || ! command -v apt-get >/dev/null; then
        die "needs a Debian-based machine (apt-get, dpkg-deb)"
    fi
    [[ $(uname -m) == x86_64 ]] || die "only x86_64 is supported (the loader path is fixed)"
    mkdir -p "$DEST"
    # One installer at a time: several test runs may ask for the interpreters at once.
    exec 9>"$DEST/.lock"
    flock 9

    local v missing=()
    for v in "${VERSIONS[@]}"; do
        if [[ $FORCE == 0 ]] && installed_ok "$v"; then
            say "$v already installed and verified"
        else
            missing+=("$v")
        fi
    done

    if ((${#missing[@]})); then
        local started=$SECONDS pkgs
        ensure_patchelf
        setup_private_apt
        pkgs=$(for v in "${missing[@]}"; do packages_for "$v"; done | sort -u)
        # shellcheck disable=SC2086 # package names never contain spaces
        download $pkgs
        for v in "${missing[@]}"; do install_version "$v"; done
        rm -f "$APT_DIR"/debs/*.deb
        say "installed ${missing[*]} in $((SECONDS - started))s"
    fi

    for v in "${VERSIONS[@]}"; do
        say "ok $("$(python_of "$v")" -c 'import sys; print(sys.version.split()[0])') $(python_of "$v")"
    done
}

main "$@"
