#!/usr/bin/env bash
# `npm test`: interpreters, type check + build, lint, the agent's unit tests on every
# interpreter, then the end-to-end tests. Every step runs even after an earlier one failed, so
# one run shows everything that is wrong; the exit status is non-zero if any step failed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
BIN="$ROOT/node_modules/.bin"
# Bounds a hung end-to-end run well inside CI's budget; per test, node's own timeout.
E2E_LIMIT=${TASKLENS_E2E_TIMEOUT:-3900}
TEST_TIMEOUT_MS=${TASKLENS_TEST_TIMEOUT_MS:-300000}

logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT
names=() results=()

step() {
    local name=$1 start=$SECONDS rc
    shift
    printf '\n===== %s =====\n' "$name"
    "$@" 2>&1 | tee "$logdir/$name.log"
    rc=${PIPESTATUS[0]}
    names+=("$name")
    if ((rc == 0)); then
        results+=("ok      $((SECONDS - start))s")
    else
        results+=("FAILED  $((SECONDS - start))s (exit $rc)")
    fi
    return "$rc"
}

# Steps run in a pipeline's subshell, so the list comes back through a file.
ensure_pythons() {
    bash "$ROOT/scripts/pythons.sh" --ensure >"$logdir/pythons" || return 1
    echo "TASKLENS_PYTHONS=$(paste -sd: "$logdir/pythons")"
}

# tsc never deletes outputs: a compiled test whose source is gone would still run.
drop_stale_tests() {
    local js rel
    [[ -d dist/test ]] || return 0
    while IFS= read -r js; do
        rel=${js#dist/}
        if [[ ! -f ${rel%.js}.ts ]]; then
            echo "removing stale $js"
            rm -f "$js" "$js.map"
        fi
    done < <(find dist/test -name '*.js')
}

build() { drop_stale_tests && "$BIN/tsc" -p .; }

# Only *.test.js files: given a directory, node's runner would also run every helper module.
e2e() {
    local files
    mapfile -t files < <(find dist/test -name '*.test.js' | sort)
    ((${#files[@]})) || { echo "no end-to-end test files in dist/test"; return 1; }
    TASKLENS_TEST_TIMEOUT_MS=$TEST_TIMEOUT_MS timeout --kill-after=30 "$E2E_LIMIT" \
        node --test --test-concurrency=1 --test-timeout="$TEST_TIMEOUT_MS" \
        --test-reporter=spec --test-reporter-destination=stdout \
        --test-reporter=./scripts/file-times.mjs --test-reporter-destination=stdout "${files[@]}"
}

# Counts from the closing lines: test-agent.sh's "agent: N passed, N failed[, N skipped]" and
# node's spec reporter's "ℹ pass N".
agent_count() {
    local line n
    line=$(grep -E '^agent: [0-9]+ passed' "$logdir/agent.log" 2>/dev/null | tail -n1)
    n=$(grep -Eo "[0-9]+ $1" <<<"$line" | grep -Eo '[0-9]+')
    echo "${n:-0}"
}
node_count() {
    local n
    n=$(grep -E "^ℹ $1 [0-9]+\$" "$logdir/e2e.log" 2>/dev/null | tail -n1 | grep -Eo '[0-9]+')
    echo "${n:-0}"
}

# The VS Code browser tests skip, saying why, when this cannot install their pieces.
ensure_vscode() {
    bash "$ROOT/scripts/install-vscode.sh" || echo "the VS Code browser tests (test/vscode) will be skipped"
}

interpreters_ok=1
step interpreters ensure_pythons || interpreters_ok=0
step vscode ensure_vscode
TASKLENS_PYTHONS=$(paste -sd: "$logdir/pythons" 2>/dev/null)
export TASKLENS_PYTHONS
step build build
step lint "$BIN/eslint" src test bench
if ((interpreters_ok)); then
    step agent bash "$ROOT/scripts/test-agent.sh"
    step e2e e2e
else
    names+=(agent e2e)
    results+=("not run (no interpreters)" "not run (no interpreters)")
fi

passed=$(($(agent_count passed) + $(node_count pass)))
failed=$(($(agent_count failed) + $(node_count fail) + $(node_count cancelled)))
skipped=$(($(agent_count skipped) + $(node_count skipped)))

status=0
printf '\n===== summary =====\n'
for i in "${!names[@]}"; do
    printf '%-13s %s\n' "${names[$i]}" "${results[$i]}"
    [[ ${results[$i]} == ok* ]] || status=1
done
((status == 0)) && echo "all steps passed" || echo "SOME STEPS FAILED"
echo "tests: $passed passed, $failed failed$( ((skipped)) && echo ", $skipped skipped")"
exit "$status"
