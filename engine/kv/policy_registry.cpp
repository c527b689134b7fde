#include "kv/policy_registry.h"

#include <algorithm>

#include "util/error.h"

namespace kvscope {
namespace {

const PolicyParameter kWindow{"window", "W", 1, true, 256, "keep the last W positions; under sinks + window W counts the sinks"};
const PolicyParameter kSinks{"sinks", "S", 0, true, 4,
                             "also keep the first S positions (attention sinks); under sinks + window S < W"};
const PolicyParameter kPins{"pin", "P,Q,...", 0, true, 0, "positions kept until unpinned (inside the text)"};
const PolicyParameter kPinEvery{"pin-every", "k", 0, true, 0, "also pin every k-th position (0 = off)"};
const PolicyParameter kH2o{"h2o", "H,R", 0, true, 64, "the H heaviest older positions and the R most recent (H + R <= context)"};
const PolicyParameter kBudget{"budget", "B", 1, true, 256, "the most positions a layer holds, the new one included"};

std::vector<PolicyInfo> make_registry() {
    return {
        {PolicyKind::Full, "full", "full", "every position (capacity = the context length)", "", {}, false, true},
        {PolicyKind::Window, "window", "window", "the last W positions (a rolling buffer: slot = position mod W)",
         "Mistral 7B's sliding window (Jiang et al. 2023)", {kWindow}, false, true},
        {PolicyKind::SinksWindow, "sinks", "sinks + window", "the first S positions plus the last W − S",
         "StreamingLLM: Efficient Streaming Language Models with Attention Sinks (Xiao et al. 2023)", {kWindow, kSinks},
         false, true},
        {PolicyKind::Global, "global", "global",
         "the first S positions, the pinned ones (kept until unpinned; with --pin-separators every separator token "
         "too) plus the last W",
         "Longformer's global tokens (Beltagy et al. 2020)", {kWindow, kSinks, kPins, kPinEvery}, false, false},
        {PolicyKind::H2O, "h2o", "h2o",
         "the R most recent positions plus the H older ones with the most attention accumulated over every "
         "query so far (summed over heads)",
         "H2O: Heavy-Hitter Oracle for Efficient Generative Inference (Zhang et al. 2023)", {kH2o}, true, true},
        {PolicyKind::Tova, "tova", "tova",
         "at most B positions; over budget, the positions the latest query attended to least (averaged over the "
         "layer's heads) go first, the older first on a tie; the newest position is not protected",
         "TOVA: Transformers are Multi-State RNNs (Oren et al. 2024)", {kBudget}, true, true},
        {PolicyKind::Knorm, "knorm", "knorm",
         "at most B positions; over budget, the keys with the largest L2 norm (mean over the layer's KV heads) go "
         "first, the older first on a tie (low-norm keys draw the attention)",
         "A Simple and Effective L2 Norm-Based Strategy for KV Cache Compression (Devoto et al. 2024)", {kBudget},
         false, true},
        {PolicyKind::KeyDiff, "keydiff", "keydiff",
         "at most B positions; over budget, the keys most similar (cosine) to the mean of the held keys, each "
         "normalised, go first (mean over the layer's KV heads), the older first on a tie: distinctive keys stay",
         "KeyDiff: Key Similarity-Based KV Cache Eviction for Long-Context LLM Inference (Park et al. 2025)",
         {kBudget}, false, true},
    };
}

PolicyConfig sepllm(int32_t window, int32_t sinks) {
    PolicyConfig p;
    p.kind = PolicyKind::Global;
    p.window = window;
    p.sinks = sinks;
    p.pin_separators = true;
    return p;
}

PolicyConfig lm_infinite(int32_t window, int32_t sinks) {
    PolicyConfig p;
    p.kind = PolicyKind::SinksWindow;
    p.window = window;
    p.sinks = sinks;
    p.positions = PositionMode::InCache;
    return p;
}

}  // namespace

const std::vector<PolicyPreset>& policy_presets() {
    static const std::vector<PolicyPreset> presets = {
        {"sepllm",
         "global: the first S positions and every separator token (. , ; : ! ? and line breaks) kept, plus the "
         "last W",
         "SepLLM: Accelerate Large Language Models by Compressing One Segment into One Separator (Chen et al. 2024)",
         sepllm},
        {"lm-infinite",
         "sinks + window with in-cache positions: the first S positions and the last W − S, RoPE at the cache rank, "
         "so a query sees the first tokens at a distance of at most about W (LM-Infinite's distance cap; give W = "
         "the trained context length to reproduce it)",
         "LM-Infinite: Zero-Shot Extreme Length Generalization for Large Language Models (Han et al. 2024)",
         lm_infinite},
    };
    return presets;
}

const PolicyPreset* find_policy_preset(const std::string& name) {
    for (const PolicyPreset& p : policy_presets())
        if (name == p.name) return &p;
    return nullptr;
}

const std::vector<PolicyInfo>& policy_registry() {
    static const std::vector<PolicyInfo> registry = make_registry();
    return registry;
}

const PolicyInfo& policy_info(PolicyKind kind) {
    for (const PolicyInfo& info : policy_registry())
        if (info.kind == kind) return info;
    throw Error("policy kind " + std::to_string(static_cast<int>(kind)) + " has no registry entry");
}

bool policy_uses(PolicyKind kind, const std::string& parameter) {
    const auto& params = policy_info(kind).parameters;
    return std::any_of(params.begin(), params.end(), [&](const PolicyParameter& p) { return parameter == p.name; });
}

std::string policy_names_text() {
    std::string s;
    for (const PolicyInfo& info : policy_registry()) s += (s.empty() ? "" : ", ") + std::string(info.name);
    return s;
}

}  // namespace kvscope
