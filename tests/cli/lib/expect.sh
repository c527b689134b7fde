# Shared by the CLI contract tests (sourced, not run). Needs $cli set.
# Sets up $tmp (removed on exit) and $failures.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

# expect CODE PATTERN -- ARGS...: runs the CLI, checks the exit code and that
# stderr is one line matching PATTERN.
expect() {
    local code="$1" pattern="$2"
    shift 3
    "$cli" "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$?
    local lines
    lines=$(wc -l <"$tmp/err")
    if [ "$got" -ne "$code" ] || [ "$lines" -ne 1 ] || ! grep -q -- "$pattern" "$tmp/err"; then
        echo "FAIL: kvscope-cli $* -> exit $got (want $code), stderr ($lines lines):" >&2
        cat "$tmp/err" >&2
        failures=$((failures + 1))
    fi
}
