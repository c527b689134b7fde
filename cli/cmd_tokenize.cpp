// kvscope-cli tokenize: token ids and their pieces.
#include <cstdio>

#include "command_app.h"
#include "commands.h"
#include "common.h"

namespace kvscope::cli {

int cmd_tokenize(const std::vector<std::string>& argv) {
    CommandApp app("tokenize");
    ModelArgs model_args;
    PromptArgs prompt;
    bool no_special = false;
    bool ids_only = false;
    add_model_argument(app, model_args);
    add_model_options(app, model_args);
    add_prompt_options(app, prompt);
    app.add_flag("--no-special", no_special, "read special tokens in the text (e.g. <|im_start|>) as plain text");
    app.add_flag("--ids", ids_only, "print only the ids, as a JSON list");
    if (!app.parse_arguments(argv)) return 0;
    const std::string text_read = prompt_text(prompt);

    auto model = load_model(model_args);
    const std::string text = prompt_for_model(prompt, text_read, model->config());
    const Tokenizer& tok = model->tokenizer();
    const auto ids = tok.encode(text, true, !no_special);
    if (ids_only) {
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
