#pragma once
// The commands of kvscope-cli: what main dispatches to and `kvscope-cli help` lists.
#include <string>
#include <vector>

namespace kvscope::cli {

struct Command {
    const char* name;
    const char* arguments;  // after the name in the overview, e.g. "[MODEL] -p TEXT"
    const char* summary;    // one line: in the overview and on top of the command's --help
    // Takes the arguments after the command's name and returns the exit code.
    int (*run)(const std::vector<std::string>& argv);
};

const std::vector<Command>& all_commands();
const Command* find_command(const std::string& name);  // nullptr when there is no such command

int cmd_info(const std::vector<std::string>& argv);
int cmd_tokenize(const std::vector<std::string>& argv);
int cmd_generate(const std::vector<std::string>& argv);
int cmd_bench(const std::vector<std::string>& argv);
int cmd_heatmap(const std::vector<std::string>& argv);
int cmd_ppl(const std::vector<std::string>& argv);
int cmd_sweep(const std::vector<std::string>& argv);
int cmd_policies(const std::vector<std::string>& argv);
int cmd_passkey(const std::vector<std::string>& argv);

}  // namespace kvscope::cli
