#pragma once
// Pieces the CLI commands share: the model and its threads, the prompt,
// sampling, printing JSON.
#include <CLI/CLI.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backends/backend_factory.h"
#include "model/model.h"
#include "session/session.h"

namespace kvscope::cli {

// Where the model comes from: the MODEL argument, else -m/--model, else
// $KVSCOPE_MODEL, else the default model in the per-user cache
// (scripts/fetch-model puts it there).
struct ModelArgs {
    std::string argument;  // [MODEL]
    std::string option;    // -m/--model PATH
    int threads = 0;       // -t/--threads N (add_model_options sets the default)
    BackendKind backend = BackendKind::Auto;  // --backend auto|cpu|cuda
    int device = 0;                           // --device N (CUDA)

    BackendOptions backend_options() const { return BackendOptions{backend, threads, device}; }
};

// -m/--model PATH, -t/--threads N, --backend, --device, and the help's footer on MODEL.
void add_model_options(CLI::App& app, ModelArgs& model);
// The backend the options ask for, for `model`; `note` receives which one it
// is and, for auto, why ("backend: CPU, 2 threads (auto: no CUDA device)"),
// for the command's summary line.
std::unique_ptr<Backend> make_cli_backend(const Model& model, const ModelArgs& args, std::string* note);
// The optional MODEL argument (ppl and sweep have their own: [MODEL] TEXTFILE).
void add_model_argument(CLI::App& app, ModelArgs& model);

std::string resolve_model_path(const ModelArgs& model);
std::string default_model_path();
std::unique_ptr<Model> load_model(const ModelArgs& model);

struct PromptArgs {
    std::optional<std::string> text;  // -p/--prompt TEXT
    std::optional<std::string> file;  // --prompt-file FILE
    std::optional<std::string> system;
    bool chat = false;
};

// -p/--prompt TEXT, --prompt-file FILE, --chat, --system TEXT.
void add_prompt_options(CLI::App& app, PromptArgs& prompt);
// The prompt from -p or --prompt-file (exactly one), as ChatML when --chat is set.
std::string prompt_text(const PromptArgs& prompt);
// The text as the model reads it: with --chat, wrapped in the model's chat
// format (Gemma's turns for gemma3, ChatML otherwise).
std::string prompt_for_model(const PromptArgs& prompt, const std::string& text, const ModelConfig& config);

// --temp T, --top-k K, --top-p P, --seed S, each checked against its range.
void add_sampling_options(CLI::App& app, SamplingParams& sampling);

// JSON string with invalid UTF-8 replaced (a token may be part of a character).
std::string json_string(const std::string& s);

}  // namespace kvscope::cli
