#include "eval_common.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common.h"
#include "util/error.h"

namespace kvscope::cli {

std::string text_file_arg(const Args& args) {
    const auto& pos = args.positionals();
    if (pos.empty()) throw UsageError("give a text file: [MODEL] TEXTFILE");
    if (pos.size() > 2) throw UsageError("too many arguments: give [MODEL] TEXTFILE");
    return pos.back();
}

std::unique_ptr<Model> load_model_for_text(const Args& args) {
    if (args.positionals().size() == 2) return Model::load(args.positionals()[0]);
    std::vector<std::string> model_args;
    for (const char* name : {"-m", "--model"})
        if (auto v = args.value(name)) model_args = {name, *v};
    return load_model(Args(model_args, model_value_options(), {}));
}

std::vector<TokenId> text_file_tokens(const Model& model, const std::string& path, const Args& args) {
    const int64_t max_tokens = args.int_or("--max-tokens", 0, 0, INT32_MAX);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("cannot read text file '" + path + "'");
    std::ostringstream ss;
    ss << in.rdbuf();
    std::vector<TokenId> tokens = model.tokenizer().encode(ss.str(), true, false);
    if (max_tokens > 0 && static_cast<int64_t>(tokens.size()) > max_tokens) tokens.resize(static_cast<size_t>(max_tokens));
    return tokens;
}

std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    for (;;) {
        const size_t at = s.find(',', start);
        out.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
        if (at == std::string::npos) return out;
        start = at + 1;
    }
}

std::vector<int32_t> int_list(const Args& args, const std::string& name, const std::vector<int32_t>& fallback,
                              int64_t min, int64_t max) {
    auto v = args.value(name);
    if (!v) return fallback;
    std::vector<int32_t> out;
    for (const std::string& item : split_list(*v)) {
        char* end = nullptr;
        errno = 0;
        const long long n = std::strtoll(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || errno != 0)
            throw UsageError("option " + name + " needs a comma list of integers, got '" + *v + "'");
        if (n < min || n > max)
            throw UsageError("option " + name + " entries must be between " + std::to_string(min) + " and " +
                             std::to_string(max) + ", got " + item);
        out.push_back(static_cast<int32_t>(n));
    }
    return out;
}

std::vector<double> number_list(const Args& args, const std::string& name, const std::vector<double>& fallback,
                                double min, double max) {
    auto v = args.value(name);
    if (!v) return fallback;
    std::vector<double> out;
    for (const std::string& item : split_list(*v)) {
        char* end = nullptr;
        errno = 0;
        const double d = std::strtod(item.c_str(), &end);
        if (item.empty() || *end != '\0' || errno != 0)
            throw UsageError("option " + name + " needs a comma list of numbers, got '" + *v + "'");
        if (!(d >= min && d <= max))
            throw UsageError("option " + name + " entries must be between " + std::to_string(min) + " and " +
                             std::to_string(max) + ", got " + item);
        out.push_back(d);
    }
    return out;
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
