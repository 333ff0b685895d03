#!/usr/bin/env bash
# Runs the Python agent's unittest suite (agent/tests/test_*.py) on every interpreter of the
# matrix: TASKLENS_PYTHONS (colon-separated) if set, else the list from scripts/pythons.sh.
# Fails if any interpreter fails, if a run executes no test, or if there are no tests at all.
# The last line is "agent: N passed, N failed" (summed over interpreters).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TESTS="$ROOT/agent/tests"
# A hung test must not eat the whole CI budget.
LIMIT=${TASKLENS_AGENT_TEST_TIMEOUT:-600}

shopt -s nullglob
files=("$TESTS"/test_*.py)
if ((${#files[@]} == 0)); then
    echo "test-agent: no agent tests (expected agent/tests/test_*.py)" >&2
    echo "agent: 0 passed, 0 failed"
    exit 1
fi

if [[ -n ${TASKLENS_PYTHONS:-} ]]; then
    IFS=: read -r -a pythons <<<"$TASKLENS_PYTHONS"
else
    mapfile -t pythons < <(bash "$ROOT/scripts/pythons.sh" --ensure)
fi
if ((${#pythons[@]} == 0)); then
    echo "test-agent: no interpreters" >&2
    exit 1
fi

# With agent/tests a package, tests may import each other as tests.x; otherwise the test
# directory itself is the top level.
top="$TESTS"
[[ -f $TESTS/__init__.py ]] && top="$ROOT/agent"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
total_pass=0 total_fail=0 total_skip=0 bad=()

# Reads unittest's closing lines: "Ran N tests" and "OK (skipped=S)" or
# "FAILED (failures=F, errors=E, skipped=S, unexpected successes=U)".
count() {
    local key=$1
    grep -E '^(OK|FAILED) \(' "$log" | tail -n1 | grep -Eo "$key=[0-9]+" | cut -d= -f2
}

for py in "${pythons[@]}"; do
    ver=$("$py" -c 'import sys; print(sys.version.split()[0])' 2>/dev/null) || ver='?'
    echo "=== agent tests on Python $ver ($py)"
    (cd "$ROOT" && PYTHONPATH="$ROOT/agent${PYTHONPATH:+:$PYTHONPATH}" \
        timeout --kill-after=10 "$LIMIT" "$py" -m unittest discover -s "$TESTS" -t "$top" -p 'test_*.py') \
        2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    ran=$(grep -Eo '^Ran [0-9]+ tests?' "$log" | tail -n1 | grep -Eo '[0-9]+')
    ran=${ran:-0}
    failures=$(count failures) errors=$(count errors) skipped=$(count skipped) unexpected=$(count 'unexpected successes')
    failed=$((${failures:-0} + ${errors:-0} + ${unexpected:-0}))
    skipped=${skipped:-0}
    if ((rc == 0 && ran == 0)); then rc=5; fi
    if ((rc != 0 && failed == 0)); then failed=1; fi
    passed=$((ran - failed - skipped))
    ((passed < 0)) && passed=0
    total_pass=$((total_pass + passed))
    total_fail=$((total_fail + failed))
    total_skip=$((total_skip + skipped))
    if ((rc != 0)); then
        ((rc == 124 || rc == 137)) && echo "test-agent: timed out after ${LIMIT}s on $ver" >&2
        ((ran == 0)) && echo "test-agent: no test ran on $ver" >&2
        bad+=("$ver")
    fi
done

if ((${#bad[@]})); then
    echo "test-agent: FAILED on: ${bad[*]}"
else
    echo "test-agent: all ${#pythons[@]} interpreters passed"
fi
echo "agent: $total_pass passed, $total_fail failed$( ((total_skip)) && echo ", $total_skip skipped")"
((${#bad[@]} == 0))
