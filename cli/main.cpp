// kvscope-cli: the engine without a display, for batch work.
// Exit codes: 0 ok, 1 runtime error, 2 usage error; errors are one line on stderr.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "commands.h"
#include "usage_error.h"
#include "util/error.h"
#include "util/simd_level.h"

namespace {

// The commands and what they do; each command's --help has its options.
std::string overview() {
    std::string text =
        "usage: kvscope-cli COMMAND [MODEL] [options]\n"
        "       kvscope-cli COMMAND --help     the command's options\n"
        "\n"
        "commands:\n";
    for (const kvscope::cli::Command& c : kvscope::cli::all_commands()) {
        char line[256];
        std::snprintf(line, sizeof line, "  %-28s %s\n", (std::string(c.name) + " " + c.arguments).c_str(), c.summary);
        text += line;
    }
    text +=
        "\n"
        "MODEL is a .gguf path; without it: -m PATH, $KVSCOPE_MODEL, or the default model fetched by scripts/fetch-model.\n";
    return text;
}

// The error contract: one line, "kvscope-cli COMMAND: message", even when
// the message quotes a value with a line break in it.
int fail(const std::string& command, std::string message, int exit_code) {
    for (char& ch : message)
        if (ch == '\n' || ch == '\r') ch = ' ';
    std::fprintf(stderr, "kvscope-cli %s: %s\n", command.c_str(), message.c_str());
    return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fputs(overview().c_str(), stderr);
        return 2;
    }
    std::string command = argv[1];
    std::vector<std::string> rest(argv + 2, argv + argc);
    if (command == "help" || command == "--help" || command == "-h") {
        if (rest.empty()) {
            std::fputs(overview().c_str(), stdout);
            return 0;
        }
        // "kvscope-cli help generate" is "kvscope-cli generate --help".
        command = rest[0];
        rest = {"--help"};
    }
    if (command == "--version") {
        std::printf("kvscope-cli %s\n", KVSCOPE_VERSION);
        return 0;
    }
    const kvscope::cli::Command* found = kvscope::cli::find_command(command);
    if (!found) {
        std::fprintf(stderr, "kvscope-cli: unknown command '%s' (try kvscope-cli help)\n", command.c_str());
        return 2;
    }
    try {
        // A KVSCOPE_SIMD this CPU cannot run is refused before any work starts.
        kvscope::active_simd_level();
        return found->run(rest);
    } catch (const kvscope::cli::UsageError& e) {
        return fail(command, e.what(), 2);
    } catch (const kvscope::InvalidSetting& e) {
        return fail(command, e.what(), 2);
    } catch (const std::exception& e) {
        return fail(command, e.what(), 1);
    }
}
