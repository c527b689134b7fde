#include "eval/passkey.h"

#include <cmath>
#include <limits>
#include <memory>

#include "backend/backend.h"
#include "util/error.h"

namespace kvscope {
namespace {

constexpr const char* kIntro =
    "There is an important info hidden inside a lot of irrelevant text. Find it and memorize it. "
    "I will quiz you about the important information there.";
constexpr const char* kFiller =
    " The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.";
constexpr const char* kQuestion = " What is the pass key? The pass key is";

std::string key_sentence(const std::string& key) {
    return " The pass key is " + key + ". Remember it. " + key + " is the pass key.";
}

void append(std::vector<TokenId>& out, const std::vector<TokenId>& part) { out.insert(out.end(), part.begin(), part.end()); }

// The policy of one grid cell, or a note saying why it is skipped.
std::string cell_policy(int32_t window, int32_t sinks, PolicyConfig& policy) {
    if (window < 0) return "skipped: window must be at least 0 (0 = full)";
    if (sinks < 0) return "skipped: sinks must be at least 0";
    if (window == 0) {
        if (sinks != 0) return "skipped: sinks apply to a window, not to the full cache";
        policy.kind = PolicyKind::Full;
        return {};
    }
    if (sinks >= window)
        return "skipped: sinks " + std::to_string(sinks) + " must be smaller than window " + std::to_string(window);
    policy.kind = sinks == 0 ? PolicyKind::Window : PolicyKind::SinksWindow;
    policy.window = window;
    policy.sinks = sinks;
    return {};
}

bool retrieve(const Model& model, const SessionOptions& so, const BackendFactory& backend, const PasskeyPrompt& prompt,
              int32_t decode_tokens) {
    Session session(model, backend(model), so);
    session.prefill(prompt.tokens);
    std::string text;
    for (int32_t i = 0; i < decode_tokens; ++i) {
        const StepResult r = session.step();
        if (r.end_of_generation) break;
        text += r.text;
        if (text.find(prompt.passkey) != std::string::npos) return true;
    }
    return false;
}

}  // namespace

PasskeyPrompt build_passkey_prompt(const Tokenizer& tokenizer, int32_t target_tokens, double depth,
                                   const std::string& passkey) {
    if (!(depth >= 0.0 && depth <= 1.0))
        throw InvalidSetting("passkey depth must be between 0 and 1, got " + std::to_string(depth));
    const auto encode = [&](const std::string& s) { return tokenizer.encode(s, false, false); };
    std::vector<TokenId> head;
    if (tokenizer.add_bos() && tokenizer.bos() >= 0) head.push_back(tokenizer.bos());
    append(head, encode(kIntro));
    const std::vector<TokenId> filler = encode(kFiller);
    const std::vector<TokenId> key = encode(key_sentence(passkey));
    const std::vector<TokenId> question = encode(kQuestion);
    const int64_t fixed = static_cast<int64_t>(head.size() + key.size() + question.size());
    if (target_tokens < fixed)
        throw InvalidSetting("passkey length must be at least " + std::to_string(fixed) +
                             " tokens (instructions, key and question), got " + std::to_string(target_tokens));

    PasskeyPrompt p;
    p.passkey = passkey;
    p.filler_units = static_cast<int32_t>((target_tokens - fixed) / static_cast<int64_t>(filler.size()));
    p.units_before = static_cast<int32_t>(std::lround(depth * p.filler_units));
    p.tokens = head;
    for (int32_t i = 0; i < p.units_before; ++i) append(p.tokens, filler);
    p.key_begin = static_cast<int32_t>(p.tokens.size());
    append(p.tokens, key);
    p.key_end = static_cast<int32_t>(p.tokens.size());
    for (int32_t i = p.units_before; i < p.filler_units; ++i) append(p.tokens, filler);
    append(p.tokens, question);
    return p;
}

std::string random_passkey(uint64_t& state) {
    // splitmix64: the same keys on every platform for a given seed.
    state += 0x9E3779B97F4A7C15ull;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return std::to_string(10000 + z % 90000);
}

std::vector<PasskeyRow> passkey_accuracy(const Model& model, const SessionOptions& base, const PasskeyGrid& grid,
                                         const BackendFactory& backend, const PasskeyProgress& progress) {
    if (grid.lengths.empty() || grid.depths.empty() || grid.windows.empty() || grid.sinks.empty())
        throw InvalidSetting("the passkey grid needs at least one length, depth, window and sink count");
    if (grid.trials < 1) throw InvalidSetting("passkey trials must be at least 1, got " + std::to_string(grid.trials));
    if (grid.decode_tokens < 1)
        throw InvalidSetting("passkey decode tokens must be at least 1, got " + std::to_string(grid.decode_tokens));
    const int32_t n_ctx_train = model.config().n_ctx_train;
    for (int32_t length : grid.lengths)
        if (length < 1 || length + grid.decode_tokens > n_ctx_train)
            throw InvalidSetting("passkey length must be between 1 and " + std::to_string(n_ctx_train - grid.decode_tokens) +
                                 " (the model's context less the answer), got " + std::to_string(length));
    for (double depth : grid.depths)
        if (!(depth >= 0.0 && depth <= 1.0))
            throw InvalidSetting("passkey depth must be between 0 and 1, got " + std::to_string(depth));

    const size_t cells = grid.lengths.size() * grid.depths.size() * grid.windows.size() * grid.sinks.size();
    const int32_t total = static_cast<int32_t>(cells) * grid.trials;
    int32_t done = 0;
    std::vector<PasskeyRow> rows;
    for (int32_t length : grid.lengths) {
        for (double depth : grid.depths) {
            // The same keys (and prompts) for every policy of this (length, depth).
            uint64_t state = grid.seed ^ (static_cast<uint64_t>(length) << 32) ^
                             static_cast<uint64_t>(std::llround(depth * 1e6));
            std::vector<PasskeyPrompt> prompts;
            for (int32_t t = 0; t < grid.trials; ++t)
                prompts.push_back(build_passkey_prompt(model.tokenizer(), length, depth, random_passkey(state)));
            for (int32_t window : grid.windows) {
                for (int32_t sinks : grid.sinks) {
                    PasskeyRow row{length, depth, window, sinks, grid.trials, 0, 0, {}};
                    SessionOptions so = base;
                    so.policy.pins.clear();
                    so.policy.dynamic.clear();
                    so.policy.full_every = 0;
                    so.sampling = SamplingParams{};  // greedy
                    so.top_k_report = 1;
                    so.capture_attention = false;
                    so.cache_views = false;
                    so.reference_run = false;
                    row.note = cell_policy(window, sinks, so.policy);
                    if (!row.note.empty()) {
                        row.accuracy = std::numeric_limits<double>::quiet_NaN();
                        done += grid.trials;
                        if (progress && !progress(done, total)) throw Error("cancelled");
                        rows.push_back(row);
                        continue;
                    }
                    for (const PasskeyPrompt& prompt : prompts) {
                        so.n_ctx = static_cast<int32_t>(prompt.tokens.size()) + grid.decode_tokens;
                        row.correct += retrieve(model, so, backend, prompt, grid.decode_tokens) ? 1 : 0;
                        ++done;
                        if (progress && !progress(done, total)) throw Error("cancelled");
                    }
                    row.accuracy = static_cast<double>(row.correct) / grid.trials;
                    rows.push_back(row);
                }
            }
        }
    }
    return rows;
}

}  // namespace kvscope
