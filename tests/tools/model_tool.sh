#!/usr/bin/env bash
# kvscope-model-tool: tiny family models load and are named by info (qwen2's
# biases, Llama 3's RoPE factors); on the real model, a cut of its first 2
# blocks loads as a 2-block model and decodes; widening that cut to 6 blocks
# gives 6; bad arguments are usage errors.
#   model_tool.sh MODEL_TOOL KVSCOPE_CLI
set -u
tool="$1"
cli="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Tiny family models (no real model needed): the CLI names what each family adds.
"$tool" tiny qwen2-q8_0 "$tmp/qwen2.gguf" | grep -q "fnv1a64" || fail "tiny qwen2-q8_0 did not report its hash"
"$cli" info "$tmp/qwen2.gguf" >"$tmp/qinfo" || fail "info on the tiny qwen2 exited $?"
grep -q "^architecture:    qwen2$" "$tmp/qinfo" || fail "tiny qwen2: $(grep architecture "$tmp/qinfo")"
grep -q "^block extras:    Q/K/V biases$" "$tmp/qinfo" || fail "tiny qwen2 info does not name its biases"
grep -q "^rope:            neox" "$tmp/qinfo" || fail "tiny qwen2 info does not say NeoX RoPE"
"$tool" tiny llama3-f32 "$tmp/llama3.gguf" >/dev/null || fail "tiny llama3-f32 exited $?"
"$cli" info "$tmp/llama3.gguf" | grep -q "frequency factors (rope_freqs" ||
    fail "tiny llama3 info does not name its RoPE frequency factors"
"$cli" generate "$tmp/qwen2.gguf" -p "the cat" -n 4 --backend cpu >/dev/null 2>&1 || fail "the tiny qwen2 does not decode"
"$tool" tiny gpt9-f32 "$tmp/x.gguf" 2>"$tmp/err"
[ $? -eq 1 ] || fail "an unknown tiny model should be a runtime error"
grep -q "unknown tiny model 'gpt9-f32'" "$tmp/err" || fail "unknown tiny model message: $(cat "$tmp/err")"

# ppl and sweep run on every family.
printf 'the quick brown fox jumps over the lazy dog and the cat sat on the mat while a bird sang of keys and values\n' >"$tmp/text.txt"
for family in qwen2 qwen3 llama3 phi3; do
    "$tool" tiny "$family-q8_0" "$tmp/$family.gguf" >/dev/null || fail "tiny $family-q8_0 exited $?"
    "$cli" ppl "$tmp/$family.gguf" "$tmp/text.txt" --max-tokens 60 2>/dev/null | grep -Eq "^perplexity  +[0-9]" ||
        fail "ppl does not run on $family"
    rows=$("$cli" sweep "$tmp/$family.gguf" "$tmp/text.txt" --windows 8,16 --sinks 0,2 --policies full,sinks \
        --max-tokens 60 2>/dev/null | grep -Ec "^(full|window|sinks) ")
    [ "$rows" -eq 5 ] || fail "sweep on $family gave $rows rows instead of 5"
done

model="${KVSCOPE_MODEL:-${XDG_CACHE_HOME:-$HOME/.cache}/kvscope/models/SmolLM2-135M-Instruct.Q4_1.gguf}"
if [ ! -f "$model" ]; then
    if [ "${CI:-}" = "true" ]; then echo "FAIL: model not found at $model (CI=true)" >&2; exit 1; fi
    echo "SKIP: model not found at $model (run scripts/fetch-model)"
    exit 77
fi

"$tool" cut "$model" "$tmp/cut.gguf" 2 >/dev/null || fail "cut exited $?"
"$cli" info "$tmp/cut.gguf" >"$tmp/info" || fail "info on the cut model exited $?"
grep -q "^layers:          2$" "$tmp/info" || fail "the cut model has not 2 layers: $(grep layers "$tmp/info")"
size=$(stat -c %s "$tmp/cut.gguf")
[ "$size" -lt $((60 * 1024 * 1024)) ] || fail "the cut model is $size bytes: too big to travel to a GPU machine"
"$cli" generate "$tmp/cut.gguf" -p "The capital of France is" -n 3 --backend cpu >/dev/null 2>&1 ||
    fail "the cut model does not decode"
"$tool" widen "$tmp/cut.gguf" "$tmp/wide.gguf" 6 >/dev/null || fail "widen exited $?"
"$cli" info "$tmp/wide.gguf" | grep -q "^layers:          6$" || fail "the widened model has not 6 layers"
"$tool" cut "$model" "$tmp/x.gguf" 0 2>/dev/null
[ $? -eq 2 ] || fail "0 layers should be a usage error"
"$tool" cut "$tmp/none.gguf" "$tmp/x.gguf" 2 2>/dev/null
[ $? -eq 1 ] || fail "a missing input should be a runtime error"
echo "model tool: all checks passed"
