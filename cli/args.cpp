#include "args.h"

#include <cerrno>
#include <cstdlib>

namespace kvscope::cli {

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& value_options,
           const std::set<std::string>& flags) {
    for (size_t i = 0; i < argv.size(); ++i) {
        std::string a = argv[i];
        if (a.size() < 2 || a[0] != '-' || a == "--") {
            positionals_.push_back(a);
            continue;
        }
        std::optional<std::string> inline_value;
        if (const auto eq = a.find('='); eq != std::string::npos && a.rfind("--", 0) == 0) {
            inline_value = a.substr(eq + 1);
            a = a.substr(0, eq);
        }
        if (flags.count(a)) {
            if (inline_value) throw UsageError("option " + a + " takes no value");
            flags_.insert(a);
        } else if (value_options.count(a)) {
            if (inline_value) {
                values_[a] = *inline_value;
            } else {
                if (i + 1 >= argv.size()) throw UsageError("option " + a + " needs a value");
                values_[a] = argv[++i];
            }
        } else {
            throw UsageError("unknown option " + a);
        }
    }
}

std::optional<std::string> Args::value(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    return it->second;
}

std::string Args::value_or(const std::string& name, const std::string& fallback) const {
    return value(name).value_or(fallback);
}

int64_t Args::int_or(const std::string& name, int64_t fallback, int64_t min, int64_t max) const {
    auto v = value(name);
    if (!v) return fallback;
    char* end = nullptr;
    errno = 0;
    const long long n = std::strtoll(v->c_str(), &end, 10);
    if (v->empty() || *end != '\0' || errno != 0)
        throw UsageError("option " + name + " needs an integer, got '" + *v + "'");
    if (n < min || n > max)
        throw UsageError("option " + name + " must be between " + std::to_string(min) + " and " + std::to_string(max) +
                         ", got " + *v);
    return n;
}

double Args::float_or(const std::string& name, double fallback) const {
    auto v = value(name);
    if (!v) return fallback;
    char* end = nullptr;
    errno = 0;
    const double d = std::strtod(v->c_str(), &end);
    if (v->empty() || *end != '\0' || errno != 0) throw UsageError("option " + name + " needs a number, got '" + *v + "'");
    return d;
}

}  // namespace kvscope::cli
