#include "commands.h"

namespace kvscope::cli {

const std::vector<Command>& all_commands() {
    static const std::vector<Command> commands = {
        {"info", "[MODEL]", "architecture, hyperparameters, tensor types and tokenizer of a model", cmd_info},
        {"tokenize", "[MODEL] -p TEXT", "token ids and pieces of a text", cmd_tokenize},
        {"generate", "[MODEL] -p TEXT", "decode token by token, as text or one JSON object per step", cmd_generate},
        {"bench", "[MODEL]", "prefill and decode tokens/s (median over runs) and peak RSS", cmd_bench},
        {"heatmap", "[MODEL] -p TEXT", "attention heatmap of a run as PNG/SVG/PDF and CSV", cmd_heatmap},
        {"ppl", "[MODEL] TEXTFILE", "perplexity of a text fed token by token under a cache policy", cmd_ppl},
        {"sweep", "[MODEL] TEXTFILE", "perplexity over a grid of windows, sinks, policies and KV types", cmd_sweep},
        {"policies", "", "the cache policies: rule, paper and parameters of each", cmd_policies},
        {"passkey", "[MODEL]", "passkey retrieval accuracy by length, depth, window and sinks", cmd_passkey},
    };
    return commands;
}

const Command* find_command(const std::string& name) {
    for (const Command& c : all_commands())
        if (name == c.name) return &c;
    return nullptr;
}

}  // namespace kvscope::cli
