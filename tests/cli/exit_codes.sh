#!/usr/bin/env bash
# The CLI's contract: exit 0 ok, 1 runtime error, 2 usage error, and every
# error is exactly one line on stderr naming the problem.
#   exit_codes.sh KVSCOPE_CLI SOURCE_DIR
set -u
cli="$1"
source "$(dirname "${BASH_SOURCE[0]}")/lib/expect.sh"

expect 2 "unknown command" -- frobnicate
expect 2 "unknown option --bogus" -- info --bogus
expect 2 "needs a value" -- generate x.gguf -p
expect 2 "give a prompt" -- generate "$tmp/none.gguf"
expect 2 "must be between" -- generate "$tmp/none.gguf" -p hi -n -3
expect 2 "top-p must be in" -- generate "$tmp/none.gguf" -p hi --top-p 1.5
expect 2 "needs an integer" -- bench "$tmp/none.gguf" -p abc
expect 1 "cannot open" -- info "$tmp/none.gguf"
# The SIMD level is chosen at run time; a bad choice is refused before any work.
KVSCOPE_SIMD=sse9 expect 2 "KVSCOPE_SIMD=sse9: unknown level" -- info "$tmp/none.gguf"
KVSCOPE_SIMD=scalar expect 1 "cannot open" -- info "$tmp/none.gguf"

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
