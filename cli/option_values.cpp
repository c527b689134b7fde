#include "option_values.h"

#include <cerrno>
#include <climits>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>

namespace kvscope::cli {
namespace {

// A plain decimal integer: an optional '-' and digits, nothing else (no
// spaces, '+', hex or octal), within int64.
std::optional<int64_t> decimal_integer(const std::string& text) {
    const size_t digits_from = !text.empty() && text[0] == '-' ? 1 : 0;
    if (text.size() == digits_from) return std::nullopt;
    for (size_t i = digits_from; i < text.size(); ++i)
        if (text[i] < '0' || text[i] > '9') return std::nullopt;
    errno = 0;
    const long long n = std::strtoll(text.c_str(), nullptr, 10);
    if (errno != 0) return std::nullopt;
    return n;
}

// A finite decimal number ("0.5", "-1", "1e-3").
std::optional<double> decimal_number(const std::string& text) {
    if (text.empty() || text.find_first_of("xXpP") != std::string::npos) return std::nullopt;  // no hex floats
    char* end = nullptr;
    errno = 0;
    const double d = std::strtod(text.c_str(), &end);
    if (*end != '\0' || errno != 0 || !std::isfinite(d) || std::isspace(static_cast<unsigned char>(text[0])))
        return std::nullopt;
    return d;
}

std::string between(int64_t min, int64_t max) { return std::to_string(min) + " and " + std::to_string(max); }

}  // namespace

std::string format_number(double d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", d);
    return buf;
}

CLI::Validator integer_in(int64_t min, int64_t max) {
    auto check = [min, max](std::string& value) -> std::string {
        try {
            value = std::to_string(parse_integer(value, min, max));
            return {};
        } catch (const UsageError& e) {
            return e.what();
        }
    };
    return CLI::Validator(check, std::to_string(min) + ".." + std::to_string(max));
}

CLI::Validator whole_number(int64_t min) {
    auto check = [min](std::string& value) -> std::string {
        try {
            value = std::to_string(parse_whole_number(value, min));
            return {};
        } catch (const UsageError& e) {
            return e.what();
        }
    };
    return CLI::Validator(check, ">= " + std::to_string(min));
}

CLI::Validator number_in(double min, double max) {
    auto check = [min, max](std::string& value) -> std::string {
        const auto d = decimal_number(value);
        if (!d) return "needs a number, got '" + value + "'";
        if (*d < min || *d > max) return "must be in [" + format_number(min) + ", " + format_number(max) + "], got " + value;
        return {};
    };
    return CLI::Validator(check, "[" + format_number(min) + ", " + format_number(max) + "]");
}

CLI::Validator number_above(double min, double max) {
    auto check = [min, max](std::string& value) -> std::string {
        const auto d = decimal_number(value);
        if (!d) return "needs a number, got '" + value + "'";
        if (*d <= min || *d > max) return "must be in (" + format_number(min) + ", " + format_number(max) + "], got " + value;
        return {};
    };
    return CLI::Validator(check, "(" + format_number(min) + ", " + format_number(max) + "]");
}

int64_t parse_integer(const std::string& text, int64_t min, int64_t max) {
    const auto n = decimal_integer(text);
    if (!n) throw UsageError("needs an integer, got '" + text + "'");
    if (*n < min || *n > max) throw UsageError("must be between " + between(min, max) + ", got " + text);
    return *n;
}

int32_t parse_whole_number(const std::string& text, int64_t min) {
    const auto n = text.empty() || text[0] == '-' ? std::nullopt : decimal_integer(text);
    if (!n || *n < min || *n > INT32_MAX)
        throw UsageError("needs a whole number >= " + std::to_string(min) + ", got '" + text + "'");
    return static_cast<int32_t>(*n);
}

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> out;
    size_t start = 0;
    for (;;) {
        const size_t at = text.find(separator, start);
        out.push_back(text.substr(start, at == std::string::npos ? std::string::npos : at - start));
        if (at == std::string::npos) return out;
        start = at + 1;
    }
}

std::vector<int32_t> parse_integer_list(const std::string& text, int64_t min, int64_t max) {
    std::vector<int32_t> out;
    for (const std::string& item : split(text, ',')) {
        const auto n = decimal_integer(item);
        if (!n) throw UsageError("needs a comma list of integers, got '" + text + "'");
        if (*n < min || *n > max) throw UsageError("entries must be between " + between(min, max) + ", got " + item);
        out.push_back(static_cast<int32_t>(*n));
    }
    return out;
}

std::vector<double> parse_number_list(const std::string& text, double min, double max) {
    std::vector<double> out;
    for (const std::string& item : split(text, ',')) {
        const auto d = decimal_number(item);
        if (!d) throw UsageError("needs a comma list of numbers, got '" + text + "'");
        if (*d < min || *d > max)
            throw UsageError("entries must be between " + format_number(min) + " and " + format_number(max) + ", got " + item);
        out.push_back(*d);
    }
    return out;
}

}  // namespace kvscope::cli
