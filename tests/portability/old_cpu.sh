#!/usr/bin/env bash
# The CLI and the engine's core on an x86-64 CPU without AVX (qemu-user's
# "qemu64" model: the x86-64 baseline), as a user with an old machine runs them:
# the CPU check picks the scalar kernels, an AVX2 request is refused in one
# line, generation gives the native run's tokens, and the kernel tests pass.
#   old_cpu.sh KVSCOPE_CLI ENGINE_TESTS
# Debian 12's qemu 7.2 executes AVX2 even for a CPU model that lacks it, so
# this checks the run-time choice; tests/portability/isa_leaks.py checks that
# no AVX code sits outside the ISA kernels. Skips without qemu-user (fails
# under CI=true) and without the model (likewise).
set -u
cli="$1"
engine_tests="$2"
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() {
    [ "${CI:-}" = "true" ] && fail "$1 (CI=true)"
    echo "SKIP: $1"
    exit 77
}
qemu=$(command -v qemu-x86_64 || command -v qemu-x86_64-static) || skip "qemu-x86_64 not found (apt install qemu-user)"
model="${KVSCOPE_MODEL:-${XDG_CACHE_HOME:-$HOME/.cache}/kvscope/models/SmolLM2-135M-Instruct.Q4_1.gguf}"
[ -f "$model" ] || skip "model not found at $model (run scripts/fetch-model)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
old() { "$qemu" -cpu qemu64 "$@"; }

old "$cli" info "$model" >"$tmp/info" 2>"$tmp/err" || fail "info on qemu64 exited $?: $(cat "$tmp/err")"
grep -q "^cpu kernels:     scalar in use; best here scalar (this CPU: none; lacks avx2" "$tmp/info" ||
    fail "info on qemu64 does not say it uses the scalar kernels: $(grep 'cpu kernels' "$tmp/info")"

KVSCOPE_SIMD=avx2 old "$cli" info "$model" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || fail "KVSCOPE_SIMD=avx2 on qemu64 should exit 2"
[ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "KVSCOPE_SIMD=avx2: this CPU lacks avx2 fma f16c" "$tmp/err" ||
    fail "KVSCOPE_SIMD=avx2 on qemu64: $(cat "$tmp/err")"

# The same greedy tokens and candidate logits as the native run (whatever
# its SIMD level); only the timings may differ.
args=(generate "$model" -p "The capital of France is" -n 3 --backend cpu --json)
untimed() { sed -E 's/"(forward|sample)_ms":[^,}]*//g'; }
"$cli" "${args[@]}" 2>/dev/null | untimed >"$tmp/native" || fail "native generate failed"
old "$cli" "${args[@]}" 2>"$tmp/err" | untimed >"$tmp/old"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "generate on qemu64 failed: $(cat "$tmp/err")"
[ -s "$tmp/native" ] && cmp -s "$tmp/native" "$tmp/old" || fail "generate on qemu64 differs from the native run"

# The kernels' own tests (the model-level ones are too slow under emulation).
old "$engine_tests" --gtest_brief=1 \
    --gtest_filter='QuantVecDot*:QuantActivation*:QuantDequantize*:Gguf*:SimdLevel.*:Cpu/SimdLevels.AttentionKernels*' \
    >"$tmp/gtest" 2>&1 || { tail -30 "$tmp/gtest" >&2; fail "engine tests on qemu64"; }
grep -q "PASSED" "$tmp/gtest" || fail "engine tests on qemu64 ran nothing"
echo "old CPU (qemu64, no AVX): scalar kernels chosen, AVX2 refused, same tokens, $(grep -o '[0-9]* tests\? from' "$tmp/gtest" | head -1 | cut -d' ' -f1) engine tests passed"
