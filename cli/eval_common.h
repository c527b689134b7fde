#pragma once
// Pieces the evaluation commands (ppl, sweep, passkey) share: the model and
// text file positionals, comma lists, a progress line every ~5 %.
#include <cstdint>
#include <string>
#include <vector>

#include "args.h"
#include "model/model.h"

namespace kvscope::cli {

// "[MODEL] TEXTFILE": with two positionals the first is the model; with one,
// the model comes from -m/--model, $KVSCOPE_MODEL or the default.
std::string text_file_arg(const Args& args);
std::unique_ptr<Model> load_model_for_text(const Args& args);

// The text file's tokens (BOS added as the model asks), cut to --max-tokens.
std::vector<TokenId> text_file_tokens(const Model& model, const std::string& path, const Args& args);

// "--name 1,2,3": each entry an integer in [min, max]; fallback when absent.
std::vector<int32_t> int_list(const Args& args, const std::string& name, const std::vector<int32_t>& fallback,
                              int64_t min, int64_t max);
// "--name 0,0.5,1": each entry a number in [min, max].
std::vector<double> number_list(const Args& args, const std::string& name, const std::vector<double>& fallback,
                                double min, double max);
std::vector<std::string> split_list(const std::string& s);

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
