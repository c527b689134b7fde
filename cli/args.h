#pragma once
// A small command-line parser: "--name value", "--name=value", "-x value",
// flags, and positionals. Unknown options and bad values are usage errors
// (exit code 2).
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace kvscope::cli {

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Args {
public:
    // value_options: options that take a value; flags: options that don't.
    // Names include dashes ("--top-k", "-n").
    Args(const std::vector<std::string>& argv, const std::set<std::string>& value_options,
         const std::set<std::string>& flags);

    bool flag(const std::string& name) const { return flags_.count(name) != 0; }
    std::optional<std::string> value(const std::string& name) const;
    std::string value_or(const std::string& name, const std::string& fallback) const;
    int64_t int_or(const std::string& name, int64_t fallback, int64_t min, int64_t max) const;
    double float_or(const std::string& name, double fallback) const;
    const std::vector<std::string>& positionals() const { return positionals_; }

private:
    std::map<std::string, std::string> values_;
    std::set<std::string> flags_;
    std::vector<std::string> positionals_;
};

}  // namespace kvscope::cli
