#!/usr/bin/env bash
# Make the llama.cpp fixtures of the tiny random-weight family models in
# tests/data/reference-tiny/ (see NOTES.md there).
#
#   scripts/make-tiny-fixtures.sh LLAMA_BUILD_DIR KVSCOPE_BUILD_DIR
#
# Each model of tests/support/tiny_families.h is written by
# KVSCOPE_BUILD_DIR/tests/kvscope-model-tool tiny, run by our llama.cpp driver
# (tools/llamacpp-reference/dump_reference) on every prompt of
# tools/llamacpp-reference/prompts/tiny/, and the fixture gets the file's size
# and FNV-1a hash (kvscope_model), which the test checks against the model it
# builds in memory. Environment: LLAMA_SRC, LLAMA_COMMIT, DRIVER_BUILD as for
# make-reference-fixtures.sh; MODELS (default: those c392e50 runs); DRIVER_ARGS
# (extra dump_reference flags, e.g. --no-repack for a newer llama.cpp).
# qwen3 needs a newer llama.cpp than c392e50 (see tests/data/reference-tiny/NOTES.md).
# llama.cpp is never copied into this repository.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  sed -n '2,17p' "$0"; exit 2
fi
LLAMA_BUILD=$(cd "$1" && pwd)
KVSCOPE_BUILD=$(cd "$2" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=tests/data/reference-tiny
LLAMA_SRC=${LLAMA_SRC:-$(cd "$LLAMA_BUILD/../src" 2>/dev/null && pwd || true)}
DRIVER_BUILD=${DRIVER_BUILD:-/tmp/kvscope-refdrv}
LLAMA_COMMIT=${LLAMA_COMMIT:-c392e5094deaf2d1a7c18683214f007fad3fe42b}
MODELS="${MODELS:-qwen2-f32 qwen2-f16 qwen2-q8_0 llama3-f32 llama3-f16 llama3-q8_0 phi3-f32 phi3-f16 phi3-q8_0}"
DRIVER_ARGS="${DRIVER_ARGS:-}"

cmake -S "$ROOT/tools/llamacpp-reference" -B "$DRIVER_BUILD" \
  -DLLAMA_SRC="$LLAMA_SRC" -DLLAMA_BUILD="$LLAMA_BUILD" -DLLAMA_COMMIT="$LLAMA_COMMIT" >/dev/null
cmake --build "$DRIVER_BUILD" -j2 --target dump_reference >/dev/null
DRIVER=$DRIVER_BUILD/dump_reference
TOOL=$KVSCOPE_BUILD/tests/kvscope-model-tool
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

cd "$ROOT"
mkdir -p "$OUT"
for model in $MODELS; do
  file="$WORK/tiny-$model.gguf"
  line=$("$TOOL" tiny "$model" "$file")
  echo "$line"
  hash=$(echo "$line" | sed -n 's/.*fnv1a64 \([0-9a-f]*\).*/\1/p')
  bytes=$(stat -c %s "$file")
  for prompt in tools/llamacpp-reference/prompts/tiny/*.txt; do
    name="${model//-/_}__$(basename "$prompt" .txt)"
    "$DRIVER" --model "$file" --prompt-file "$prompt" --name "$name" --out "$OUT/$name.json" \
      --threads 2 --n-predict 48 --ctx 256 --kv-type f16 --top-k 10 --commit "$LLAMA_COMMIT" $DRIVER_ARGS >/dev/null 2>"$WORK/$name.log" \
      || { cat "$WORK/$name.log" >&2; exit 1; }
    python3 - "$OUT/$name.json" "$model" "$hash" "$bytes" <<'PY'
import json, sys
path, model, digest, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with open(path) as f:
    fixture = json.load(f)
fixture["kvscope_model"] = {"name": model, "fnv1a64": digest, "bytes": size,
                            "written_by": "kvscope-model-tool tiny " + model + " (tests/support/tiny_families.h)"}
with open(path, "w") as f:
    json.dump(fixture, f, indent=1)
    f.write("\n")
PY
    echo "  $OUT/$name.json"
  done
done
