#pragma once
// CLI11's help layout, with a value's range and default after the option's
// description,
//   -n N                        tokens to generate (0..16777216, default 64)
// rather than packed after its name ("-n INT:0..16777216=64").
#include <CLI/CLI.hpp>

#include <string>

namespace kvscope::cli {

class HelpFormatter : public CLI::Formatter {
public:
    std::string make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const override;
    std::string make_option_opts(const CLI::Option* option) const override;
    std::string make_option_desc(const CLI::Option* option) const override;
};

}  // namespace kvscope::cli
