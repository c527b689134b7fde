#!/usr/bin/env bash
# Every command's --help and -h (usage on stdout naming the command's own
# options, nothing on stderr, exit 0), and its usage errors: a bad value,
# an unknown option or a missing value is exit 2 and one line on stderr,
# "kvscope-cli COMMAND: ...", naming the option, before any model is loaded.
#   help_and_usage.sh KVSCOPE_CLI SOURCE_DIR
set -u
cli="$1"
source "$(dirname "${BASH_SOURCE[0]}")/lib/expect.sh"

# expect_help COMMAND OPTION...: `COMMAND --help` and `COMMAND -h` print the
# command's usage with each OPTION on stdout, and nothing on stderr.
expect_help() {
    local command="$1"
    shift
    local flag option
    for flag in --help -h; do
        "$cli" "$command" "$flag" >"$tmp/out" 2>"$tmp/err"
        local got=$?
        if [ "$got" -ne 0 ] || [ -s "$tmp/err" ] || ! grep -q "^Usage: kvscope-cli $command " "$tmp/out"; then
            echo "FAIL: kvscope-cli $command $flag -> exit $got (want 0), stderr: $(cat "$tmp/err")" >&2
            failures=$((failures + 1))
            continue
        fi
        for option in "$@"; do
            grep -q -- "$option" "$tmp/out" ||
                { echo "FAIL: kvscope-cli $command $flag does not mention $option" >&2; failures=$((failures + 1)); }
        done
    done
}

expect_help info --model --threads --json
expect_help tokenize --prompt --prompt-file --chat --no-special --ids
expect_help generate --prompt --window --sinks --policy --kv-type --temp --top-p --seed --json --trace --reference
expect_help bench --capture --cache-views --reference -r --window --policy
expect_help heatmap --layer --head --out --csv --log --width --window
expect_help ppl TEXTFILE --max-tokens --reference --policy --h2o --dynamic-window
expect_help sweep TEXTFILE --windows --sinks --policies --kv-types --positions --csv --png --no-reference
expect_help passkey --lengths --depths --windows --sinks --trials --seed --kv-type

# Ranges and defaults are in the help.
"$cli" generate --help >"$tmp/out" 2>&1
grep -q -- "-n N .*(0\.\.16777216, default 64)" "$tmp/out" || { echo "FAIL: generate -n's range and default" >&2; failures=$((failures + 1)); }
grep -q -- "--top-p P .*((0, 1\], default 1)" "$tmp/out" || { echo "FAIL: generate --top-p's range" >&2; failures=$((failures + 1)); }

# `kvscope-cli help COMMAND` is the command's help; help wins over bad values before it.
"$cli" generate --help >"$tmp/direct" 2>/dev/null
"$cli" help generate >"$tmp/out" 2>"$tmp/err" && cmp -s "$tmp/out" "$tmp/direct" && [ ! -s "$tmp/err" ] ||
    { echo "FAIL: kvscope-cli help generate differs from generate --help" >&2; failures=$((failures + 1)); }
"$cli" generate -n abc --help >"$tmp/out" 2>"$tmp/err" && cmp -s "$tmp/out" "$tmp/direct" ||
    { echo "FAIL: generate -n abc --help should print the help" >&2; failures=$((failures + 1)); }
expect 2 "^kvscope-cli: unknown command 'bogus'" -- help bogus

# The overview: help, --help, -h; every command listed.
for flag in help --help -h; do
    "$cli" "$flag" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" -ne 0 ] || [ -s "$tmp/err" ]; then
        echo "FAIL: kvscope-cli $flag -> exit $got (want 0), stderr: $(cat "$tmp/err")" >&2
        failures=$((failures + 1))
    fi
    for command in info tokenize generate bench heatmap ppl sweep passkey; do
        grep -q "^  $command " "$tmp/out" ||
            { echo "FAIL: kvscope-cli $flag does not list $command" >&2; failures=$((failures + 1)); }
    done
done

m="$tmp/none.gguf"  # never opened: every case below fails before the model is loaded
t="$tmp/text.txt"
printf 'Some text.\n' >"$t"

# Unknown options, missing values.
for command in info tokenize generate bench heatmap passkey; do
    expect 2 "^kvscope-cli $command: unknown option --bogus" -- "$command" "$m" --bogus
    expect 2 "^kvscope-cli $command: option --model needs a value$" -- "$command" -m
    expect 2 "^kvscope-cli $command: option --threads must be between 1 and 1024, got 0$" -- "$command" "$m" -t 0
    expect 2 "^kvscope-cli $command: option --threads needs an integer, got 'two'$" -- "$command" "$m" --threads two
done
for command in ppl sweep; do
    expect 2 "^kvscope-cli $command: unknown option --bogus" -- "$command" "$m" "$t" --bogus
    expect 2 "^kvscope-cli $command: option --max-tokens needs a value$" -- "$command" "$m" "$t" --max-tokens
    expect 2 "^kvscope-cli $command: option --max-tokens must be between 0 and 2147483647, got -1$" -- \
        "$command" "$m" "$t" --max-tokens -1
done
expect 2 "^kvscope-cli info: too many arguments: 'extra'" -- info "$m" extra

# Out of range, not a number, unknown names: generate.
expect 2 "^kvscope-cli generate: option -n must be between 0 and 16777216, got -3$" -- generate "$m" -p hi -n -3
expect 2 "^kvscope-cli generate: option -n needs an integer, got '1e3'$" -- generate "$m" -p hi -n 1e3
expect 2 "^kvscope-cli generate: option --temp needs a number, got 'hot'$" -- generate "$m" -p hi --temp hot
expect 2 "^kvscope-cli generate: option --temp must be in \[0, 100\], got 101$" -- generate "$m" -p hi --temp 101
expect 2 "^kvscope-cli generate: option --top-p must be in (0, 1\], got 0$" -- generate "$m" -p hi --top-p 0
expect 2 "^kvscope-cli generate: option --top-k needs an integer, got 'x'$" -- generate "$m" -p hi --top-k x
expect 2 "^kvscope-cli generate: option --top must be between 1 and 1000, got 0$" -- generate "$m" -p hi --top 0
expect 2 "^kvscope-cli generate: option --seed must be between 0 and" -- generate "$m" -p hi --seed -1
expect 2 "^kvscope-cli generate: option --ctx needs an integer, got '010x'$" -- generate "$m" -p hi --ctx 010x
expect 2 "^kvscope-cli generate: option --trace-budget must be between 1 and" -- generate "$m" -p hi --trace-budget 0
expect 2 "^kvscope-cli generate: option --prompt needs a value$" -- generate "$m" -p
expect 2 "^kvscope-cli generate: option --json cannot take 'maybe'$" -- generate "$m" -p hi --json=maybe
expect 2 "^kvscope-cli generate: option --policy must be one of full, window, sinks, global, h2o, tova, knorm, keydiff; got 'lru'$" -- \
    generate "$m" -p hi --policy lru
expect 2 "^kvscope-cli generate: option --window needs a whole number >= 0, got '1.5'$" -- generate "$m" -p hi --window 1.5

# bench, heatmap.
expect 2 "^kvscope-cli bench: option -p needs an integer, got 'abc'$" -- bench "$m" -p abc
expect 2 "^kvscope-cli bench: option -r must be between 1 and 1000, got 0$" -- bench "$m" -r 0
expect 2 "^kvscope-cli bench: option -n must be between 0 and 1048576, got 2000000$" -- bench "$m" -n 2000000
expect 2 "^kvscope-cli bench: option --kv-type must be one of f32, f16, q8_0; got 'q4_0'$" -- bench "$m" --kv-type q4_0
expect 2 "^kvscope-cli bench: option --window needs a value$" -- bench "$m" --window
expect 2 "^kvscope-cli heatmap: option --layer needs an integer, got 'x'$" -- heatmap "$m" -p hi --csv "$tmp/h.csv" --layer x
expect 2 "^kvscope-cli heatmap: option --head needs a head number" -- heatmap "$m" -p hi --csv "$tmp/h.csv" --head all
expect 2 "^kvscope-cli heatmap: option --width must be between 64 and 16384, got 10$" -- \
    heatmap "$m" -p hi --out "$tmp/h.png" --width 10
expect 2 "^kvscope-cli heatmap: option --policy must be one of" -- heatmap "$m" -p hi --csv "$tmp/h.csv" --policy nope

# ppl, sweep, passkey.
expect 2 "^kvscope-cli ppl: option --policy must be one of" -- ppl "$m" "$t" --policy lru
expect 2 "^kvscope-cli ppl: option --sinks needs a whole number >= 0, got 'many'$" -- ppl "$m" "$t" --window 8 --sinks many
expect 2 "^kvscope-cli sweep: option --windows needs a comma list of integers, got 'x'$" -- sweep "$m" "$t" --windows x
expect 2 "^kvscope-cli sweep: option --positions must be one of original, in-cache; got 'middle'$" -- \
    sweep "$m" "$t" --windows 8 --positions middle
expect 2 "^kvscope-cli passkey: option --trials needs an integer, got 'few'$" -- passkey "$m" --trials few
expect 2 "^kvscope-cli passkey: option --depths needs a comma list of numbers, got 'half'$" -- passkey "$m" --depths half
expect 2 "^kvscope-cli passkey: option --lengths entries must be between 1 and 2147483647, got 0$" -- passkey "$m" --lengths 0
expect 2 "^kvscope-cli passkey: unknown option --window" -- passkey "$m" --window 8

# A value with a line break still makes one line.
expect 2 "^kvscope-cli generate: option --policy must be one of .*got 'a b'$" -- generate "$m" -p hi --policy $'a\nb'

# "--" ends the options; what follows is an argument (here MODEL).
expect 2 "^kvscope-cli generate: give a prompt" -- generate -n 3 -- "$m"

if [ "$failures" -ne 0 ]; then
    echo "$failures help/usage check(s) failed" >&2
    exit 1
fi
echo "help and usage errors: all checks passed"
