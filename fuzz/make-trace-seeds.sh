#!/usr/bin/env bash
# Regenerates fuzz/corpus/trace (committed): real sessions saved by
# kvscope-cli generate --trace on the default model, each framed as the fuzz
# target reads it (u32 little-endian JSON length, minified JSON, .attn.bin).
#   fuzz/make-trace-seeds.sh KVSCOPE_CLI [MODEL]
set -euo pipefail
cli="$1"
model="${2:-${KVSCOPE_MODEL:-${XDG_CACHE_HOME:-$HOME/.cache}/kvscope/models/SmolLM2-135M-Instruct.Q4_1.gguf}}"
out="$(cd "$(dirname "$0")" && pwd)/corpus/trace"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
seed() {
    local name="$1"
    shift
    "$cli" generate "$model" --backend cpu --trace "$tmp/$name" "$@" >/dev/null 2>&1
    python3 - "$tmp/$name" "$out/$name" <<'PY'
import json, struct, sys
src, dst = sys.argv[1], sys.argv[2]
text = json.dumps(json.load(open(src + ".json")), separators=(",", ":")).encode()
attn = open(src + ".attn.bin", "rb").read()
open(dst, "wb").write(struct.pack("<I", len(text)) + text + attn)
PY
}
seed full_3_steps -p "The capital of France is" -n 3
seed window_sinks_4_steps -p "Once upon a time" -n 4 --window 4 --sinks 1
seed h2o_q8_reference_2_steps -p "Hi there" -n 2 --h2o 2,2 --kv-type q8_0 --reference
ls -l "$out"
