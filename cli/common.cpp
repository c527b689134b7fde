#include "common.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/thread_pool.h"

namespace kvscope::cli {

std::set<std::string> model_value_options() { return {"-m", "--model", "--threads", "-t"}; }

std::string default_model_path() {
    std::string base;
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
        base = xdg;
    } else if (const char* home = std::getenv("HOME"); home && *home) {
        base = std::string(home) + "/.cache";
    } else {
        base = ".cache";
    }
    return base + "/kvscope/models/SmolLM2-135M-Instruct.Q4_1.gguf";
}

std::string resolve_model_path(const Args& args) {
    if (!args.positionals().empty()) return args.positionals()[0];
    if (auto m = args.value("-m")) return *m;
    if (auto m = args.value("--model")) return *m;
    if (const char* env = std::getenv("KVSCOPE_MODEL"); env && *env) return env;
    const std::string path = default_model_path();
    if (!std::ifstream(path).good())
        throw Error("no model given and the default model is not at " + path +
                    " (run scripts/fetch-model, or pass a .gguf path)");
    return path;
}

std::unique_ptr<Model> load_model(const Args& args) { return Model::load(resolve_model_path(args)); }

std::string prompt_text(const Args& args) {
    auto inline_prompt = args.value("-p") ? args.value("-p") : args.value("--prompt");
    auto file = args.value("--prompt-file");
    if (inline_prompt && file) throw UsageError("give either --prompt or --prompt-file, not both");
    if (!inline_prompt && !file) throw UsageError("give a prompt with -p TEXT or --prompt-file FILE");
    std::string text;
    if (file) {
        std::ifstream in(*file, std::ios::binary);
        if (!in) throw Error("cannot read prompt file '" + *file + "'");
        std::ostringstream ss;
        ss << in.rdbuf();
        text = ss.str();
    } else {
        text = *inline_prompt;
    }
    if (args.flag("--chat")) {
        std::vector<ChatMessage> messages;
        if (auto system = args.value("--system")) messages.push_back({"system", *system});
        messages.push_back({"user", text});
        return apply_chatml(messages, true);
    }
    return text;
}

std::vector<TokenId> prompt_tokens(const Model& model, const Args& args) {
    // Special tokens in the text (e.g. "<|im_start|>") are parsed, as llama.cpp's tools do.
    return model.tokenizer().encode(prompt_text(args), true, true);
}

int thread_count(const Args& args) {
    const auto name = args.value("-t") ? std::string("-t") : std::string("--threads");
    return static_cast<int>(args.int_or(name, ThreadPool::default_thread_count(), 1, 1024));
}

SamplingParams sampling_params(const Args& args) {
    SamplingParams p;
    p.temperature = static_cast<float>(args.float_or("--temp", 0.0));
    p.top_k = static_cast<int32_t>(args.int_or("--top-k", 0, 0, 1 << 30));
    p.top_p = static_cast<float>(args.float_or("--top-p", 1.0));
    p.seed = static_cast<uint64_t>(args.int_or("--seed", 0, 0, INT64_MAX));
    try {
        p.validate();
    } catch (const InvalidSetting& e) {
        throw UsageError(e.what());
    }
    return p;
}

std::string json_string(const std::string& s) {
    return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace kvscope::cli
