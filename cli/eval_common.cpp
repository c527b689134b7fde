#include "eval_common.h"

#include <climits>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "option_values.h"
#include "usage_error.h"
#include "util/error.h"

namespace kvscope::cli {

void add_text_file_arguments(CLI::App& app, ModelArgs& model, TextFileArgs& text) {
    // CLI11 fills positionals in order: a lone file lands in MODEL, and
    // settle_text_file_arguments moves it.
    app.add_option("MODEL", model.argument, "the .gguf model (optional, see below)");
    app.add_option("TEXTFILE", text.path, "the text to score (required: a lone file is the text)");
    app.add_option("--max-tokens", text.max_tokens, "score only the first N tokens; 0 = all")
        ->type_name("N")->check(integer_in(0, INT32_MAX));
}

void settle_text_file_arguments(ModelArgs& model, TextFileArgs& text) {
    if (!text.path.empty()) return;
    if (model.argument.empty()) throw UsageError("give a text file: [MODEL] TEXTFILE");
    text.path = std::move(model.argument);
    model.argument.clear();
}

std::vector<TokenId> text_file_tokens(const Model& model, const TextFileArgs& text) {
    std::ifstream in(text.path, std::ios::binary);
    if (!in) throw Error("cannot read text file '" + text.path + "'");
    std::ostringstream ss;
    ss << in.rdbuf();
    std::vector<TokenId> tokens = model.tokenizer().encode(ss.str(), true, false);
    if (text.max_tokens > 0 && tokens.size() > static_cast<size_t>(text.max_tokens))
        tokens.resize(static_cast<size_t>(text.max_tokens));
    return tokens;
}

void ProgressLine::update(int64_t done, int64_t total) {
    if (total <= 0) return;
    const int step = static_cast<int>(done * 20 / total);
    if (step == last_step_) return;
    last_step_ = step;
    std::fprintf(stderr, "%s: %lld/%lld (%d %%)\n", label_.c_str(), static_cast<long long>(done),
                 static_cast<long long>(total), step * 5);
    std::fflush(stderr);
}

}  // namespace kvscope::cli
