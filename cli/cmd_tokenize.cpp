// kvscope-cli tokenize: token ids and their pieces.
#include <cstdio>

#include "commands.h"
#include "common.h"

namespace kvscope::cli {

int cmd_tokenize(const std::vector<std::string>& argv) {
    auto options = model_value_options();
    options.insert({"-p", "--prompt", "--prompt-file", "--system"});
    Args args(argv, options, {"--chat", "--no-special", "--ids"});
    auto model = load_model(args);
    const Tokenizer& tok = model->tokenizer();
    const auto ids = tok.encode(prompt_text(args), true, !args.flag("--no-special"));
    if (args.flag("--ids")) {
        std::string line = "[";
        for (size_t i = 0; i < ids.size(); ++i) line += (i ? ", " : "") + std::to_string(ids[i]);
        std::printf("%s]\n", line.c_str());
        return 0;
    }
    for (const TokenId id : ids) std::printf("%6d -> %s\n", id, json_string(tok.token_to_piece(id)).c_str());
    std::printf("%zu tokens\n", ids.size());
    return 0;
}

}  // namespace kvscope::cli
