#pragma once
#include <string>
#include <vector>

namespace kvscope::cli {

// Each command takes the arguments after its name and returns the exit code.
int cmd_info(const std::vector<std::string>& argv);
int cmd_tokenize(const std::vector<std::string>& argv);
int cmd_generate(const std::vector<std::string>& argv);
int cmd_bench(const std::vector<std::string>& argv);
int cmd_heatmap(const std::vector<std::string>& argv);
int cmd_ppl(const std::vector<std::string>& argv);
int cmd_sweep(const std::vector<std::string>& argv);
int cmd_passkey(const std::vector<std::string>& argv);

}  // namespace kvscope::cli
