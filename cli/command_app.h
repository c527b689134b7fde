#pragma once
// A command's CLI11 parser with kvscope-cli's conventions:
//  - named "kvscope-cli COMMAND", its summary (commands.cpp) on top of the help;
//  - -h/--help prints the help on stdout, and the command exits 0;
//  - any bad argument is one UsageError line (main: "kvscope-cli COMMAND: ...",
//    exit 2), whatever CLI11 would have said or exited with;
//  - a repeated option keeps its last value, as in llama.cpp's tools;
//  - the help shows each value's range and default (HelpFormatter).
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace kvscope::cli {

class CommandApp : public CLI::App {
public:
    explicit CommandApp(const std::string& command);

    // Parses the arguments after the command's name. Returns false when help
    // was asked for (it is printed then); throws UsageError for a bad argument.
    [[nodiscard]] bool parse_arguments(const std::vector<std::string>& argv);

private:
    std::string command_;
};

}  // namespace kvscope::cli
