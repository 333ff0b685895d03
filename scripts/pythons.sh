#!/usr/bin/env bash
# Prints the interpreters of the test matrix, one path per line: the system python3 (3.11),
# then CPython 3.13, 3.14 and 3.15 from .cache/pythons (see install-pythons.sh).
# --ensure installs whatever is missing first. Tests read the same list from TASKLENS_PYTHONS
# (colon-separated) when it is set.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VERSIONS=(3.13 3.14 3.15)

ensure=0
case ${1:-} in
    --ensure) ensure=1 ;;
    '') ;;
    *) echo "usage: $0 [--ensure]" >&2; exit 2 ;;
esac

installed() { [[ -x $ROOT/.cache/pythons/$1/usr/bin/python$1 && -f $ROOT/.cache/pythons/$1/.tasklens-installed ]]; }

missing=()
for v in "${VERSIONS[@]}"; do installed "$v" || missing+=("$v"); done
if ((${#missing[@]})); then
    if ((ensure)); then
        # Its progress goes to stderr, so stdout stays the bare list.
        bash "$ROOT/scripts/install-pythons.sh" >&2
    else
        echo "pythons.sh: not installed: ${missing[*]}; run scripts/pythons.sh --ensure" >&2
        exit 1
    fi
fi

# A version manager's shim resolves by the current directory; the real binary does not.
system=$(python3 -c 'import sys; print(sys.executable)') || { echo "pythons.sh: no python3 on PATH" >&2; exit 1; }
sysver=$("$system" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [[ $sysver != 3.11 ]]; then
    echo "pythons.sh: python3 on PATH is $sysver ($system); the matrix starts at 3.11" >&2
    exit 1
fi
echo "$system"
for v in "${VERSIONS[@]}"; do echo "$ROOT/.cache/pythons/$v/usr/bin/python$v"; done
