#include "command_app.h"

#include <cstdio>
#include <memory>
#include <string>

#include "commands.h"
#include "help_formatter.h"
#include "usage_error.h"

namespace kvscope::cli {
namespace {

std::string summary_of(const std::string& command) {
    const Command* c = find_command(command);
    return c ? c->summary : "";
}

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// One line from a CLI11 (2.1.2) parse error, naming the option. Our
// validators word their messages to follow the name (option_values.h):
//   ValidationError   "NAME: message"                 -> "option NAME message"
//   ArgumentMismatch  "NAME: 1 required TYPE missing" -> "option NAME needs a value"
//   ConversionError   "Could not convert: NAME = V"   -> "option NAME cannot take 'V'"
// and anything else as CLI11 words it, on one line.
std::string one_line(const CLI::ParseError& e) {
    const std::string what = e.what();
    const size_t colon = what.find(": ");
    if (colon != std::string::npos) {
        const std::string name = what.substr(0, colon);
        if (dynamic_cast<const CLI::ValidationError*>(&e)) return "option " + name + " " + what.substr(colon + 2);
        if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) && ends_with(what, " missing"))
            return "option " + name + " needs a value";
    }
    const std::string not_converted = "Could not convert: ";
    if (dynamic_cast<const CLI::ConversionError*>(&e) && what.rfind(not_converted, 0) == 0) {
        const std::string rest = what.substr(not_converted.size());
        const size_t eq = rest.find(" = ");
        if (eq != std::string::npos) return "option " + rest.substr(0, eq) + " cannot take '" + rest.substr(eq + 3) + "'";
    }
    return CLI::detail::find_and_replace(what, "\n", " ");
}

}  // namespace

CommandApp::CommandApp(const std::string& command) : CLI::App(summary_of(command), "kvscope-cli " + command), command_(command) {
    formatter(std::make_shared<HelpFormatter>());
    get_formatter()->column_width(30);
    option_defaults()->always_capture_default()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    // Unknown options and extra arguments are collected, not thrown, so that
    // parse_arguments words them itself.
    allow_extras();
    // CLI11's own help flag is looked at only after every value was checked;
    // this one acts where it appears: "generate -n x --help" shows the help.
    set_help_flag();
    add_flag_callback("-h,--help", [] { throw CLI::CallForHelp(); }, "print this help and exit")->trigger_on_parse();
}

bool CommandApp::parse_arguments(const std::vector<std::string>& argv) {
    std::vector<std::string> last_first(argv.rbegin(), argv.rend());  // the order CLI11 takes them in
    try {
        parse(last_first);
    } catch (const CLI::CallForHelp&) {
        std::fputs(help().c_str(), stdout);
        return false;
    } catch (const CLI::ParseError& e) {
        throw UsageError(one_line(e));
    }
    std::vector<std::string> extras = remaining();
    // CLI11 keeps the "--" that ends the options among the leftovers.
    std::erase(extras, "--");
    if (extras.empty()) return true;
    const std::string& first = extras.front();
    if (first.size() > 1 && first[0] == '-')
        throw UsageError("unknown option " + first.substr(0, first.find('=')) + " (kvscope-cli " + command_ +
                         " --help lists the options)");
    throw UsageError("too many arguments: '" + first + "' is not expected (kvscope-cli " + command_ + " --help)");
}

}  // namespace kvscope::cli
