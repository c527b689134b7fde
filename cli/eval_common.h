#pragma once
// Pieces the evaluation commands (ppl, sweep, passkey) share: the
// "[MODEL] TEXTFILE" arguments, --max-tokens, a progress line every ~5 %.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "common.h"
#include "model/model.h"

namespace kvscope::cli {

struct TextFileArgs {
    std::string path;        // TEXTFILE
    int32_t max_tokens = 0;  // --max-tokens N; 0 = the whole text
};

// "[MODEL] TEXTFILE" and --max-tokens N.
void add_text_file_arguments(CLI::App& app, ModelArgs& model, TextFileArgs& text);
// After parsing: with one file given it is the text (the model then comes from
// -m/--model, $KVSCOPE_MODEL or the default). Throws UsageError without a text file.
void settle_text_file_arguments(ModelArgs& model, TextFileArgs& text);

// The text file's tokens (BOS added as the model asks), cut to --max-tokens.
std::vector<TokenId> text_file_tokens(const Model& model, const TextFileArgs& text);

// Prints "label: done/total (pct %)" on stderr when the percentage crosses a 5 % step.
class ProgressLine {
public:
    explicit ProgressLine(std::string label) : label_(std::move(label)) {}
    void update(int64_t done, int64_t total);

private:
    std::string label_;
    int last_step_ = -1;
};

}  // namespace kvscope::cli
