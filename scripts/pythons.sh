#!/usr/bin/env bash
# Prints the interpreters of the test matrix, one path per line: the system python3 (any
# CPython 3.11 or newer; else the newest python3.N on PATH), then 3.12 from pyenv when the
# machine has one (the machine image's pyenv ships 3.12.1; a machine without it says so on
# stderr and the matrix goes on without it), then CPython 3.13, 3.14 and 3.15 from
# .cache/pythons (see install-pythons.sh).
# A minor version appears once: the system python3 wins over a later entry of the same minor.
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

# The rule tasklens itself follows (src/agent/findPython.ts): python3 when it is 3.11 or newer,
# else the newest python3.N on PATH. Printed is sys.executable: a version manager's shim
# resolves by the current directory, the real binary does not.
NEW_ENOUGH='import sys; print(sys.executable) if sys.version_info >= (3, 11) else sys.exit(1)'
system=$(python3 -c "$NEW_ENOUGH" 2>/dev/null) || system=
if [[ -z $system ]]; then
    for minor in $(compgen -c python3. | sed -n 's/^python3\.\([0-9][0-9]*\)$/\1/p' | sort -rnu); do
        ((minor >= 11)) || continue
        system=$("python3.$minor" -c "$NEW_ENOUGH" 2>/dev/null) || continue
        echo "pythons.sh: python3 on PATH is missing or older than 3.11; using python3.$minor ($system)" >&2
        break
    done
fi
if [[ -z $system ]]; then
    echo "pythons.sh: no CPython 3.11 or newer on PATH (python3, python3.N); install one, or set TASKLENS_PYTHONS" >&2
    exit 1
fi
sysver=$("$system" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
echo "$system"

# 3.12 has no Debian build in the suite the others come from; the image's pyenv has one.
pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
py312=
for candidate in "$pyenv_root"/versions/3.12.*/bin/python3.12; do
    [[ -x $candidate ]] && py312=$candidate
done
if [[ $sysver != 3.12 ]]; then
    if [[ -n $py312 ]]; then
        echo "$py312"
    else
        echo "pythons.sh: no CPython 3.12 on this machine (looked in $pyenv_root/versions); the matrix runs without it" >&2
    fi
fi
for v in "${VERSIONS[@]}"; do
    [[ $v == "$sysver" ]] || echo "$ROOT/.cache/pythons/$v/usr/bin/python$v"
done
