#pragma once
// Checking option values as CLI11 reads them. Every message is what the
// value needs, with the value, worded to follow the option's name: CLI11
// reports "NAME: message" and CommandApp makes that the one error line
//   kvscope-cli generate: option -n must be between 0 and 16777216, got -3
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "usage_error.h"

namespace kvscope::cli {

// Validators for options bound to a number: app.add_option("-n", n)->check(integer_in(0, 100)).
// They also rewrite an accepted integer in plain decimal, because CLI11 would
// read "010" as octal.
CLI::Validator integer_in(int64_t min, int64_t max);  // "needs an integer, got 'x'", "must be between 0 and 9, got 12"
CLI::Validator whole_number(int64_t min = 0);         // min..INT32_MAX: "needs a whole number >= 0, got 'x'"
CLI::Validator number_in(double min, double max);     // "needs a number, got 'x'", "must be in [0, 100], got 101"
CLI::Validator number_above(double min, double max);  // min excluded: "must be in (0, 1], got 0"

// Parsers for values with structure; each throws UsageError with such a message.
int64_t parse_integer(const std::string& text, int64_t min, int64_t max);
int32_t parse_whole_number(const std::string& text, int64_t min = 0);
std::vector<std::string> split(const std::string& text, char separator);
// min and max within int32:
std::vector<int32_t> parse_integer_list(const std::string& text, int64_t min, int64_t max);  // "128,256"
std::vector<double> parse_number_list(const std::string& text, double min, double max);     // "0,0.5,1"

// Values with their names, e.g. {{"f16", KvValueType::F16}, ...}.
template <typename T>
using NamedValues = std::vector<std::pair<std::string, T>>;

// Each value under the name `name` gives it (e.g. the engine's kv_value_type_name).
template <typename T, typename Name>
NamedValues<T> names_of(std::initializer_list<T> values, Name name) {
    NamedValues<T> out;
    for (const T& v : values) out.emplace_back(name(v), v);
    return out;
}
template <typename T, typename Name>
NamedValues<T> names_of(const std::vector<T>& values, Name name) {
    NamedValues<T> out;
    for (const T& v : values) out.emplace_back(name(v), v);
    return out;
}

// "f32, f16, q8_0"
template <typename T>
std::string names_text(const NamedValues<T>& names) {
    std::string out;
    for (const auto& named : names) out += (out.empty() ? "" : ", ") + named.first;
    return out;
}

// Parsers of one of the names ("must be one of f32, f16, q8_0; got 'x'") and
// of a comma list of them ("entries must be among f32, f16, q8_0, got 'x'").
template <typename T>
auto one_of(NamedValues<T> names) {
    return [names](const std::string& text) -> T {
        for (const auto& [name, value] : names)
            if (text == name) return value;
        throw UsageError("must be one of " + names_text(names) + "; got '" + text + "'");
    };
}

template <typename T>
auto list_of(NamedValues<T> names) {
    return [names](const std::string& text) {
        std::vector<T> out;
        for (const std::string& item : split(text, ',')) {
            const auto named = std::find_if(names.begin(), names.end(), [&](const auto& n) { return n.first == item; });
            if (named == names.end())
                throw UsageError("entries must be among " + names_text(names) + ", got '" + item + "'");
            out.push_back(named->second);
        }
        return out;
    };
}

// "a,b,c": a list option's default for the help, each value by `name`.
std::string format_number(double value);  // "%g"
template <typename T, typename Name>
std::string comma_list(const std::vector<T>& values, Name name) {
    std::string out;
    for (const T& v : values) out += (out.empty() ? "" : ",") + std::string(name(v));
    return out;
}
inline std::string comma_list(const std::vector<int32_t>& values) {
    return comma_list(values, [](int32_t v) { return std::to_string(v); });
}
inline std::string comma_list(const std::vector<double>& values) { return comma_list(values, format_number); }

// An option whose text `parse` turns into `target`; a value parse rejects
// with UsageError is reported like a validator's ("option NAME message").
// The value is stored while CLI11 validates, which it does once per
// occurrence, in order: the last one wins.
template <typename T, typename Parse>
CLI::Option* add_parsed_option(CLI::App& app, const std::string& names, T& target, Parse parse,
                               const std::string& help) {
    auto store = [&target, parse](std::string& value) -> std::string {
        try {
            target = parse(value);
            return {};
        } catch (const UsageError& e) {
            return e.what();
        }
    };
    return app.add_option(names)->description(help)->check(CLI::Validator(store, ""));
}

}  // namespace kvscope::cli
