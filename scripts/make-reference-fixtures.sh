#!/usr/bin/env bash
# Regenerate the llama.cpp reference fixtures in tests/data/reference/.
#
#   scripts/make-reference-fixtures.sh LLAMA_BUILD_DIR MODEL.gguf [OUT_DIR]
#
# Environment:
#   LLAMA_SRC     llama.cpp source tree        (default: LLAMA_BUILD_DIR/../src)
#   LLAMA_COMMIT  commit the build was made from (default: `git -C $LLAMA_SRC rev-parse HEAD`,
#                 else c392e5094deaf2d1a7c18683214f007fad3fe42b, the commit these fixtures pin)
#   THREADS       n_threads for the fixtures   (default: 2)
#   DRIVER_BUILD  where to build the driver     (default: /tmp/kvscope-refdrv)
#   NOISE=1       also run every prompt with THREADS=1 and report the llama.cpp
#                 thread-count noise floor (max |diff| of the top-10 logits)
#
# llama.cpp is never copied into this repository; only our driver and its output are.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  sed -n '2,16p' "$0"; exit 2
fi
LLAMA_BUILD=$(cd "$1" && pwd)
MODEL=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${3:-tests/data/reference}
LLAMA_SRC=${LLAMA_SRC:-$(cd "$LLAMA_BUILD/../src" 2>/dev/null && pwd || true)}
THREADS=${THREADS:-2}
DRIVER_BUILD=${DRIVER_BUILD:-/tmp/kvscope-refdrv}
if [[ -z "${LLAMA_COMMIT:-}" ]]; then
  LLAMA_COMMIT=$(git -C "$LLAMA_SRC" rev-parse HEAD 2>/dev/null || echo c392e5094deaf2d1a7c18683214f007fad3fe42b)
fi

cmake -S "$ROOT/tools/llamacpp-reference" -B "$DRIVER_BUILD" \
  -DLLAMA_SRC="$LLAMA_SRC" -DLLAMA_BUILD="$LLAMA_BUILD" -DLLAMA_COMMIT="$LLAMA_COMMIT" >/dev/null
cmake --build "$DRIVER_BUILD" -j2 >/dev/null
DRIVER=$DRIVER_BUILD/dump_reference

cd "$ROOT"   # prompt and output paths in the recorded command lines are repo-relative
mkdir -p "$OUT"
PROMPTS=tools/llamacpp-reference/prompts

run_all() {  # $1 threads, $2 out dir
  while IFS=$'\t' read -r name chat file; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    args=(--model "$MODEL" --prompt-file "$PROMPTS/$file" --name "$name" --out "$2/$name.json"
          --threads "$1" --n-predict 64 --ctx 2048 --kv-type f16 --top-k 10)
    [[ "$chat" == 1 ]] && args+=(--chat)
    "$DRIVER" "${args[@]}" 2> >(grep -v 'n_ctx_per_seq' >&2)
  done < "$PROMPTS/manifest.tsv"
}

run_all "$THREADS" "$OUT"

if [[ "${NOISE:-0}" == 1 ]]; then
  tmp=$(mktemp -d)
  run_all 1 "$tmp"
  python3 tools/llamacpp-reference/compare_fixtures.py "$OUT" "$tmp"
  rm -rf "$tmp"
fi
