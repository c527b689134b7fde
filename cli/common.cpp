#include "common.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "option_values.h"
#include "usage_error.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace kvscope::cli {

void add_model_options(CLI::App& app, ModelArgs& model) {
    app.add_option("-m,--model", model.option, "the .gguf model, when not given as MODEL")->type_name("PATH");
    model.threads = ThreadPool::default_thread_count();
    app.add_option("-t,--threads", model.threads, "CPU backend threads")->type_name("N")->check(integer_in(1, 1024));
    add_parsed_option(app, "--backend", model.backend,
                      one_of(names_of({BackendKind::Auto, BackendKind::Cpu, BackendKind::Cuda}, backend_kind_name)),
                      "auto (CUDA when a usable GPU exists, else the CPU), cpu or cuda; `info` says what each does here")
        ->type_name("NAME")
        ->default_str("auto");
    app.add_option("--device", model.device, "CUDA device index")->type_name("N")->check(integer_in(0, 255));
    app.footer("MODEL is a .gguf path; without it: -m PATH, $KVSCOPE_MODEL, or the default model fetched by "
               "scripts/fetch-model.");
}

void add_model_argument(CLI::App& app, ModelArgs& model) {
    app.add_option("MODEL", model.argument, "the .gguf model (optional, see below)");
}

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

std::string resolve_model_path(const ModelArgs& model) {
    if (!model.argument.empty()) return model.argument;
    if (!model.option.empty()) return model.option;
    if (const char* env = std::getenv("KVSCOPE_MODEL"); env && *env) return env;
    const std::string path = default_model_path();
    if (!std::ifstream(path).good())
        throw Error("no model given and the default model is not at " + path +
                    " (run scripts/fetch-model, or pass a .gguf path)");
    return path;
}

std::unique_ptr<Model> load_model(const ModelArgs& model) { return Model::load(resolve_model_path(model)); }

std::unique_ptr<Backend> make_cli_backend(const Model& model, const ModelArgs& args, std::string* note) {
    return make_backend(model, args.backend_options(), note);
}

void add_prompt_options(CLI::App& app, PromptArgs& prompt) {
    app.add_option("-p,--prompt", prompt.text, "the prompt")->type_name("TEXT");
    app.add_option("--prompt-file", prompt.file, "read the prompt from a file")->type_name("FILE");
    app.add_flag("--chat", prompt.chat, "wrap the prompt in the model's chat format (Gemma's turns for gemma3, ChatML otherwise)");
    app.add_option("--system", prompt.system, "system message with --chat")->type_name("TEXT");
}

std::string prompt_text(const PromptArgs& prompt) {
    if (prompt.text && prompt.file) throw UsageError("give either --prompt or --prompt-file, not both");
    if (!prompt.text && !prompt.file) throw UsageError("give a prompt with -p TEXT or --prompt-file FILE");
    std::string text;
    if (prompt.file) {
        std::ifstream in(*prompt.file, std::ios::binary);
        if (!in) throw Error("cannot read prompt file '" + *prompt.file + "'");
        std::ostringstream ss;
        ss << in.rdbuf();
        text = ss.str();
    } else {
        text = *prompt.text;
    }
    return text;
}

std::string prompt_for_model(const PromptArgs& prompt, const std::string& text, const ModelConfig& config) {
    if (!prompt.chat) return text;
    std::vector<ChatMessage> messages;
    if (prompt.system) messages.push_back({"system", *prompt.system});
    messages.push_back({"user", text});
    return apply_chat(chat_format_for(config.architecture), messages, true);
}

void add_sampling_options(CLI::App& app, SamplingParams& sampling) {
    // The ranges SamplingParams::validate accepts.
    app.add_option("--temp", sampling.temperature, "sampling temperature; 0 = greedy")->type_name("T")
        ->check(number_in(0, 100));
    app.add_option("--top-k", sampling.top_k, "sample from the K most likely tokens; 0 = all")->type_name("K")
        ->check(integer_in(0, 1 << 30));
    app.add_option("--top-p", sampling.top_p, "nucleus sampling: the most likely tokens up to mass P")->type_name("P")
        ->check(number_above(0, 1));
    app.add_option("--seed", sampling.seed, "random seed")->type_name("S")->check(integer_in(0, INT64_MAX));
}

std::string json_string(const std::string& s) {
    return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace kvscope::cli
