#!/usr/bin/env bash
# kvscope --screenshot as a script or a person runs it: a PNG of the window on
# the default model after a few steps, with the heatmap on the layer asked for;
# a layer past the model's is an error with a message, not a crash.
#   screenshot.sh KVSCOPE_APP
set -u
app="$1"
model="${KVSCOPE_MODEL:-${XDG_CACHE_HOME:-$HOME/.cache}/kvscope/models/SmolLM2-135M-Instruct.Q4_1.gguf}"
if [ ! -f "$model" ]; then
    if [ "${CI:-}" = "true" ]; then echo "FAIL: model not found at $model (CI=true)" >&2; exit 1; fi
    echo "SKIP: model not found at $model (run scripts/fetch-model)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$app" --screenshot "$tmp/shot.png" --steps 3 --no-reference --layer 3 "$model" >"$tmp/out" 2>"$tmp/err" ||
    fail "screenshot exited $?: $(cat "$tmp/err")"
[ -s "$tmp/shot.png" ] || fail "no PNG written"
head -c 8 "$tmp/shot.png" | od -An -tx1 | grep -q "89 50 4e 47 0d 0a 1a 0a" || fail "the file is not a PNG"
"$app" --screenshot "$tmp/x.png" --steps 1 --no-reference --layer 30 "$model" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || fail "--layer 30 on a 30-layer model should exit 2"
grep -q "layer 30 is past the model's 30 layers" "$tmp/err" || fail "message: $(cat "$tmp/err")"
[ ! -e "$tmp/x.png" ] || fail "a refused screenshot left a file"
"$app" --screenshot "$tmp/x.png" --layer abc "$model" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || fail "--layer abc should be a usage error"
echo "screenshot: all checks passed"
