#!/usr/bin/env bash
# kvscope-cli on the real model: info, tokenize, generate (text and --json), bench.
#   generate_and_info.sh KVSCOPE_CLI SOURCE_DIR
# Needs the default model ($KVSCOPE_MODEL or the per-user cache); skips without
# it (ctest shows the skip), fails without it under CI=true.
set -u
cli="$1"
model="${KVSCOPE_MODEL:-${XDG_CACHE_HOME:-$HOME/.cache}/kvscope/models/SmolLM2-135M-Instruct.Q4_1.gguf}"
if [ ! -f "$model" ]; then
    if [ "${CI:-}" = "true" ]; then
        echo "FAIL: model not found at $model (CI=true)" >&2
        exit 1
    fi
    echo "SKIP: model not found at $model (run scripts/fetch-model)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$cli" info "$model" >"$tmp/info" || fail "info exited $?"
grep -q "architecture:    llama" "$tmp/info" || fail "info lacks the architecture"
grep -q "heads:           9 query, 3 KV (GQA group 3), head dim 64" "$tmp/info" || fail "info lacks the head layout"
grep -q "chat template:   present" "$tmp/info" || fail "info lacks the chat template line"
# What each backend would do here, and which one auto takes.
grep -q "^backend cpu:     runs it" "$tmp/info" || fail "info lacks the CPU backend's line"
grep -q "^backend cuda:    " "$tmp/info" || fail "info lacks the CUDA backend's line"
grep -q "^backend auto:    backend: " "$tmp/info" || fail "info lacks auto's choice"
if grep -q "^backend cuda:    not available" "$tmp/info"; then
    # No usable GPU: asking for CUDA is a runtime error in one line that says why.
    "$cli" generate "$model" -p "Hi" -n 1 --backend cuda >/dev/null 2>"$tmp/err"
    [ $? -eq 1 ] || fail "--backend cuda without a GPU should exit 1"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "--backend cuda: more than one line: $(cat "$tmp/err")"
    grep -q "CUDA backend cannot run" "$tmp/err" || fail "--backend cuda: $(cat "$tmp/err")"
    # auto says on stderr that it took the CPU, and why.
    "$cli" generate "$model" -p "Hi" -n 1 >/dev/null 2>"$tmp/err" || fail "generate (auto) exited $?"
    grep -q "backend: CPU, .* (auto: " "$tmp/err" || fail "auto did not say why it took the CPU: $(cat "$tmp/err")"
fi

[ "$("$cli" tokenize "$model" -p "The capital of France is" --ids)" = "[504, 3575, 282, 4649, 314]" ] ||
    fail "tokenize --ids gave an unexpected result"

"$cli" generate "$model" -p "The capital of France is" -n 4 --threads 2 >"$tmp/text" 2>"$tmp/err" ||
    fail "generate exited $?: $(cat "$tmp/err")"
grep -q "The capital of France is Paris" "$tmp/text" || fail "generate text: $(cat "$tmp/text")"

"$cli" generate "$model" --chat -p "Hi" -n 5 --json --top 3 --temp 0.8 --seed 7 >"$tmp/json" 2>/dev/null ||
    fail "generate --json exited $?"
python3 - "$tmp/json" <<'PY' || fail "generate --json output is not one JSON object per step"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert 1 <= len(lines) <= 5, len(lines)
for i, line in enumerate(lines):
    step = json.loads(line)
    assert step["step"] == i
    assert set(step) >= {"step", "position", "token", "text", "top", "eog", "forward_ms"}
    assert len(step["top"]) == 3 and all({"id", "text", "logit", "prob"} <= set(c) for c in step["top"])
PY

"$cli" bench "$model" -p 8 -n 4 -r 1 --threads 1 --json >"$tmp/bench" || fail "bench exited $?"
python3 -c "import json,sys; b=json.load(open(sys.argv[1])); assert b['tg_tokens_per_s'] > 0 and b['pp_tokens_per_s'] > 0 and b['peak_rss_mib'] > 0" "$tmp/bench" ||
    fail "bench --json: $(cat "$tmp/bench")"
# heatmap: PNG, SVG and CSV of a windowed run; the CSV has one row per query position.
"$cli" heatmap "$model" -p "One two three four five six seven eight" -n 6 --window 6 --sinks 2 --layer 1 --head 2 \
    --out "$tmp/h.png" --csv "$tmp/h.csv" 2>"$tmp/err" || fail "heatmap exited $?: $(cat "$tmp/err")"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "heatmap wrote more than one line on stderr: $(cat "$tmp/err")"
[ "$(head -c 8 "$tmp/h.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "heatmap PNG signature"
python3 - "$tmp/h.csv" <<'PY' || fail "heatmap CSV shape"
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
header, body = rows[0], rows[1:]
assert header[0] == "query\\key" and len(body) == len(header) - 1, (header[:3], len(body))
for r in body:
    q = int(r[0])
    cells = [c for c in r[1:]]
    held = [i for i, c in enumerate(cells) if c != ""]
    assert len(held) <= 6 and all(i <= q for i in held), (q, held)
    assert abs(sum(float(cells[i]) for i in held) - 1.0) < 1e-4, q
PY
"$cli" heatmap "$model" -p "Hi" -n 1 --out "$tmp/h.svg" 2>/dev/null && grep -q "<svg" "$tmp/h.svg" || fail "heatmap SVG"
"$cli" heatmap "$model" -p "Hi" -n 1 --out "$tmp/h.bmp" 2>"$tmp/err"
[ $? -eq 1 ] && grep -q ".png, .svg, .pdf" "$tmp/err" || fail "heatmap with an unknown format: $(cat "$tmp/err")"
"$cli" heatmap "$model" -p "Hi" -n 1 --out /nonexistent-dir/h.png 2>"$tmp/err"
[ $? -eq 1 ] && [ ! -e /nonexistent-dir/h.png ] || fail "heatmap to an unwritable path: $(cat "$tmp/err")"

# generate --trace: every step saved as JSON + attention binary.
"$cli" generate "$model" -p "Hello there" -n 5 --window 4 --trace "$tmp/run" >/dev/null 2>&1 || fail "generate --trace"
python3 - "$tmp/run.json" <<'PY' || fail "trace JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["steps"]) == 5 and d["header"]["n_layer"] == 30, (len(d["steps"]), d["header"].get("n_layer"))
PY
[ "$(head -c 4 "$tmp/run.attn.bin")" = "KVSA" ] || fail "trace attention file magic"

# Gemma 3 270M (when fetched; CI fetches it): the model's own windows in info,
# the note on how a policy meets them, and the trace's layer windows.
gemma="${KVSCOPE_GEMMA3_MODEL:-${XDG_CACHE_HOME:-$HOME/.cache}/kvscope/models/gemma-3-270m-q4_k_m.gguf}"
if [ -f "$gemma" ]; then
    "$cli" info "$gemma" >"$tmp/ginfo" || fail "info on Gemma 3 exited $?"
    grep -q "^attention:       15 local (window 512" "$tmp/ginfo" || fail "info lacks Gemma's local layers"
    # 3 global layers x 32768 + 15 local x 512 positions, 1,024 bytes each: 103.5 MiB of 576.0.
    grep -q "^KV at context:   103.5 MiB in f16 at 32768 positions.*576.0 MiB" "$tmp/ginfo" \
        || fail "info lacks the KV the model holds at its context: $(grep KV "$tmp/ginfo")"
    "$cli" generate "$gemma" -p "Hello" -n 2 --policy sinks --sinks 4 --window 1024 --trace "$tmp/g" \
        >/dev/null 2>"$tmp/gerr" || fail "generate on Gemma 3: $(cat "$tmp/gerr")"
    grep -q "^cache: 15 local layers keep at most their own 512-token window.*3 global layers only" "$tmp/gerr" \
        || fail "generate does not say how the policy meets the native windows: $(cat "$tmp/gerr")"
    python3 - "$tmp/g.json" <<'PY' || fail "Gemma trace's layer windows"
import json, sys
w = json.load(open(sys.argv[1]))["header"]["layer_windows"]
assert w == [0 if (l + 1) % 6 == 0 else 512 for l in range(18)], w
PY
elif [ "${CI:-}" = "true" ]; then
    fail "Gemma 3 not found at $gemma (CI=true)"
else
    echo "note: Gemma 3 not found at $gemma; its CLI checks were skipped (scripts/fetch-gemma3)"
fi

echo "CLI on the real model: all checks passed"
