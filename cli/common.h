#pragma once
// Pieces the CLI commands share: finding the model, building the prompt,
// printing JSON.
#include <memory>
#include <string>
#include <vector>

#include "args.h"
#include "model/model.h"
#include "session/session.h"

namespace kvscope::cli {

// Options every model-using command accepts.
std::set<std::string> model_value_options();

// The model path: the first positional, else -m/--model, else $KVSCOPE_MODEL,
// else the default model in the per-user cache (scripts/fetch-model puts it there).
std::string resolve_model_path(const Args& args);
std::string default_model_path();

std::unique_ptr<Model> load_model(const Args& args);

// Prompt text from -p/--prompt or --prompt-file (exactly one), as ChatML when --chat is set.
std::string prompt_text(const Args& args);
std::vector<TokenId> prompt_tokens(const Model& model, const Args& args);

int thread_count(const Args& args);
SamplingParams sampling_params(const Args& args);

// JSON string with invalid UTF-8 replaced (a token may be part of a character).
std::string json_string(const std::string& s);

}  // namespace kvscope::cli
