#include "help_formatter.h"

namespace kvscope::cli {
namespace {

// CLI11 shows an option's type as its value name followed by ":description"
// of each validator ("N:0..1024"); the validators' part is the range.
std::string value_name(const CLI::Option* option) {
    const std::string type = option->get_type_name();
    return type.substr(0, type.find(':'));
}

std::string value_range(const CLI::Option* option) {
    const std::string type = option->get_type_name();
    const size_t colon = type.find(':');
    return colon == std::string::npos ? std::string() : CLI::detail::find_and_replace(type.substr(colon + 1), ":", ", ");
}

}  // namespace

std::string HelpFormatter::make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const {
    // CLI11 puts two blank lines between option groups; one is enough.
    return CLI::detail::find_and_replace(CLI::Formatter::make_help(app, std::move(name), mode), "\n\n\n", "\n\n");
}

std::string HelpFormatter::make_option_opts(const CLI::Option* option) const {
    if (option->get_positional() || option->get_type_size() == 0) return {};
    const std::string name = value_name(option);
    return name.empty() ? std::string() : " " + name;
}

std::string HelpFormatter::make_option_desc(const CLI::Option* option) const {
    std::string notes;
    if (!option->get_positional() && option->get_type_size() != 0) {
        notes = value_range(option);
        if (!option->get_default_str().empty())
            notes += (notes.empty() ? "" : ", ") + std::string("default ") + option->get_default_str();
    }
    return option->get_description() + (notes.empty() ? "" : " (" + notes + ")");
}

}  // namespace kvscope::cli
