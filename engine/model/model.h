#pragma once
// A loaded model: the mapped GGUF file, its hyperparameters, weight views and
// tokenizer. Immutable after load, so one Model can serve several sessions.
#include <memory>
#include <string>

#include "gguf/gguf_file.h"
#include "model/model_config.h"
#include "model/weights.h"
#include "tokenizer/tokenizer.h"

namespace kvscope {

class Model {
public:
    // Throws kvscope::Error (file) or gguf::GgufError (content) with a one-line message.
    static std::unique_ptr<Model> load(const std::string& path);
    // From a parsed file the caller hands over (tests build tiny models in memory).
    static std::unique_ptr<Model> from_gguf(std::unique_ptr<gguf::GgufFile> file);

    const ModelConfig& config() const { return config_; }
    const ModelWeights& weights() const { return weights_; }
    const Tokenizer& tokenizer() const { return *tokenizer_; }
    const gguf::GgufFile& file() const { return *file_; }
    // The chat template stored in the file ("" if none).
    const std::string& chat_template() const { return chat_template_; }

private:
    std::unique_ptr<gguf::GgufFile> file_;
    ModelConfig config_;
    ModelWeights weights_;
    std::unique_ptr<Tokenizer> tokenizer_;
    std::string chat_template_;
};

}  // namespace kvscope
