#include "model/model.h"

namespace kvscope {

std::unique_ptr<Model> Model::load(const std::string& path) { return from_gguf(gguf::GgufFile::open(path)); }

std::unique_ptr<Model> Model::from_gguf(std::unique_ptr<gguf::GgufFile> file) {
    auto m = std::unique_ptr<Model>(new Model());
    m->config_ = ModelConfig::from_gguf(*file);
    m->weights_ = ModelWeights::bind(*file, m->config_);
    m->tokenizer_ = Tokenizer::from_gguf(*file);
    m->chat_template_ = file->find_string("tokenizer.chat_template").value_or("");
    m->file_ = std::move(file);
    return m;
}

}  // namespace kvscope
