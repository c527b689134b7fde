#!/usr/bin/env bash
# The CLI's contract: exit 0 ok, 1 runtime error, 2 usage error, and every
# error is exactly one line on stderr naming the problem.
#   exit_codes.sh KVSCOPE_CLI SOURCE_DIR
set -u
cli="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

# expect CODE PATTERN -- ARGS...: runs the CLI, checks the exit code and that
# stderr is one line matching PATTERN.
expect() {
    local code="$1" pattern="$2"
    shift 3
    "$cli" "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$?
    local lines
    lines=$(wc -l <"$tmp/err")
    if [ "$got" -ne "$code" ] || [ "$lines" -ne 1 ] || ! grep -q -- "$pattern" "$tmp/err"; then
        echo "FAIL: kvscope-cli $* -> exit $got (want $code), stderr ($lines lines):" >&2
        cat "$tmp/err" >&2
        failures=$((failures + 1))
    fi
}

expect 2 "unknown command" -- frobnicate
expect 2 "unknown option --bogus" -- info --bogus
expect 2 "needs a value" -- generate x.gguf -p
expect 2 "give a prompt" -- generate "$tmp/none.gguf"
expect 2 "must be between" -- generate "$tmp/none.gguf" -p hi -n -3
expect 2 "top-p must be in" -- generate "$tmp/none.gguf" -p hi --top-p 1.5
expect 2 "needs an integer" -- bench "$tmp/none.gguf" -p abc
expect 1 "cannot open" -- info "$tmp/none.gguf"

printf 'NOPE' >"$tmp/bad-magic.gguf"
expect 1 "GGUF" -- info "$tmp/bad-magic.gguf"
printf 'GGUF\x03\x00\x00\x00' >"$tmp/truncated.gguf"
expect 1 "truncated" -- info "$tmp/truncated.gguf"

"$cli" help >/dev/null 2>&1 || { echo "FAIL: help should exit 0" >&2; failures=$((failures + 1)); }
"$cli" >/dev/null 2>&1
[ $? -eq 2 ] || { echo "FAIL: no arguments should exit 2" >&2; failures=$((failures + 1)); }

if [ "$failures" -ne 0 ]; then
    echo "$failures CLI contract check(s) failed" >&2
    exit 1
fi
echo "CLI contract: all checks passed"
