// Knorm and KeyDiff (issue 13): the policies that rank the stored keys. The
// score arithmetic on hand-made keys, then each policy on the real SmolLM2
// model against a brute-force reading of the keys the cache held.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_kv_storage.h"
#include "kv/key_scores.h"
#include "kv/kv_policy.h"
#include "session/session.h"
#include "support/shared_model.h"

using namespace kvscope;

namespace {

PolicyConfig by_keys(PolicyKind kind, int32_t budget) {
    PolicyConfig p;
    p.kind = kind;
    p.budget = budget;
    return p;
}

// Every held position's stored key, read back as floats: [held][n_head_kv][head_dim].
std::vector<std::vector<float>> held_keys(const Session& s, int32_t layer, const std::vector<int32_t>& held) {
    const auto& storage = dynamic_cast<const CpuKvStorage&>(s.cache().storage());
    const KvCacheShape& shape = s.cache().shape();
    std::vector<std::vector<float>> keys;
    for (int32_t p : held) {
        std::vector<float> k(static_cast<size_t>(shape.n_head_kv) * static_cast<size_t>(shape.head_dim));
        storage.load_k(layer, 0, s.cache().slot_of(layer, p), k.data());
        keys.push_back(std::move(k));
    }
    return keys;
}

// The two rules written out from their papers' definitions, per head then
// averaged over heads; "badness" is what makes a position go first.
std::vector<double> knorm_badness(const std::vector<std::vector<float>>& keys, int32_t heads, int32_t hd) {
    std::vector<double> out;
    for (const auto& k : keys) {
        double mean = 0;
        for (int32_t h = 0; h < heads; ++h) {
            double sum = 0;
            for (int32_t d = 0; d < hd; ++d) sum += static_cast<double>(k[static_cast<size_t>(h * hd + d)]) * k[static_cast<size_t>(h * hd + d)];
            mean += static_cast<float>(std::sqrt(sum));
        }
        out.push_back(mean / heads);
    }
    return out;
}

std::vector<double> keydiff_badness(const std::vector<std::vector<float>>& keys, int32_t heads, int32_t hd) {
    std::vector<double> out(keys.size(), 0.0);
    for (int32_t h = 0; h < heads; ++h) {
        std::vector<double> anchor(static_cast<size_t>(hd), 0.0), norms;
        for (const auto& k : keys) {
            double sum = 0;
            for (int32_t d = 0; d < hd; ++d) sum += static_cast<double>(k[static_cast<size_t>(h * hd + d)]) * k[static_cast<size_t>(h * hd + d)];
            norms.push_back(std::sqrt(sum));
            for (int32_t d = 0; d < hd; ++d) anchor[static_cast<size_t>(d)] += k[static_cast<size_t>(h * hd + d)] / norms.back();
        }
        double anchor_norm = 0;
        for (double a : anchor) anchor_norm += a * a;
        anchor_norm = std::sqrt(anchor_norm);
        for (size_t i = 0; i < keys.size(); ++i) {
            double dot = 0;
            for (int32_t d = 0; d < hd; ++d) dot += static_cast<double>(keys[i][static_cast<size_t>(h * hd + d)]) * anchor[static_cast<size_t>(d)];
            out[i] += static_cast<float>(dot / (norms[i] * anchor_norm));
        }
    }
    for (double& x : out) x /= heads;
    return out;
}

// The positions that go to make room for one more within B: the highest
// badness first, the older first on a tie.
std::vector<int32_t> expected_evictions(const std::vector<int32_t>& held, const std::vector<double>& badness, int32_t budget) {
    std::vector<std::pair<double, int32_t>> ranked;
    for (size_t i = 0; i < held.size(); ++i) ranked.emplace_back(-badness[i], held[i]);
    std::sort(ranked.begin(), ranked.end());
    std::vector<int32_t> out;
    for (int64_t k = 0; k < static_cast<int64_t>(held.size()) - (budget - 1); ++k) out.push_back(ranked[static_cast<size_t>(k)].second);
    std::sort(out.begin(), out.end());
    return out;
}

void expect_brute_force_evictions(PolicyKind kind) {
    REQUIRE_SHARED_MODEL(model);
    const int32_t budget = 9;
    SessionOptions so;
    so.policy = by_keys(kind, budget);
    auto s = std::make_unique<Session>(*model, std::make_unique<CpuBackend>(*model, 2), so);
    s->prefill(model->tokenizer().encode("Paris is the capital of France, and Berlin is the capital of", true, true));
    const KvCacheShape& shape = s->cache().shape();
    int32_t layers_keeping_old = 0;
    s->step();  // step 0 only samples (the prompt's last token went in with the prompt)
    for (int i = 1; i < 10; ++i) {
        // Before the step: what each layer holds, and its keys' badness.
        std::vector<std::vector<int32_t>> before(static_cast<size_t>(shape.n_layer));
        std::vector<std::vector<double>> badness(static_cast<size_t>(shape.n_layer));
        for (int32_t l = 0; l < shape.n_layer; ++l) {
            const auto& slots = s->cache().held_slots(l);
            for (int32_t slot : slots) before[static_cast<size_t>(l)].push_back(s->cache().position_of(l, slot));
            const auto keys = held_keys(*s, l, before[static_cast<size_t>(l)]);
            badness[static_cast<size_t>(l)] = kind == PolicyKind::Knorm ? knorm_badness(keys, shape.n_head_kv, shape.head_dim)
                                                                        : keydiff_badness(keys, shape.n_head_kv, shape.head_dim);
        }
        const StepSnapshot now = s->step();
        for (int32_t l = 0; l < shape.n_layer; ++l) {
            std::vector<int32_t> evicted = now.layers[static_cast<size_t>(l)].evicted;
            std::sort(evicted.begin(), evicted.end());
            ASSERT_EQ(evicted, expected_evictions(before[static_cast<size_t>(l)], badness[static_cast<size_t>(l)], budget))
                << policy_kind_name(kind) << " step " << i << " layer " << l;
            const auto& held = now.layers[static_cast<size_t>(l)].held_positions;
            ASSERT_EQ(held.size(), static_cast<size_t>(budget));
            if (held.front() < now.position - budget) ++layers_keeping_old;
        }
        EXPECT_EQ(now.memory.kv_bytes, static_cast<uint64_t>(shape.n_layer) * budget * s->cache().bytes_per_slot());
    }
    EXPECT_GT(layers_keeping_old, 0) << "never kept anything older than a window would";
}

}  // namespace

TEST(KeyScores, CosinesToTheMeanOfTheNormalisedKeys) {
    // Two heads of two dimensions, three keys. Head 0: (1,0), (0,2), (3,0):
    // normalised (1,0), (0,1), (1,0); their sum (2,1) points at the anchor.
    const float keys[3 * 2 * 2] = {1, 0, 5, 5, 0, 2, 0, 0, 3, 0, -1, -1};
    float out[3 * 2];
    cosines_to_mean_key(keys, 3, 2, 2, out);
    const double r5 = std::sqrt(5.0);
    EXPECT_FLOAT_EQ(out[0], static_cast<float>(2 / r5));
    EXPECT_FLOAT_EQ(out[2], static_cast<float>(1 / r5));
    EXPECT_FLOAT_EQ(out[4], static_cast<float>(2 / r5));
    // Head 1: (5,5), zero, (−1,−1): the normalised sum is zero, so no direction: every cosine 0.
    EXPECT_FLOAT_EQ(out[1], 0.0f);
    EXPECT_FLOAT_EQ(out[3], 0.0f);
    EXPECT_FLOAT_EQ(out[5], 0.0f);
}

TEST(KeyScores, TheCacheStorageGivesTheSameCosines) {
    KvLayout layout = KvLayout::uniform(KvCacheShape{1, 2, 2}, 4, KvValueType::F32);
    KvCache c(layout, std::make_unique<CpuKvStorage>(layout));
    const float k[3][4] = {{1, 0, 5, 5}, {0, 2, 0, 0}, {3, 0, -1, -1}}, v[4] = {};
    std::vector<int32_t> slots;
    for (int32_t p = 0; p < 3; ++p) {
        slots.push_back(c.insert(0, p));
        dynamic_cast<CpuKvStorage&>(c.storage()).store(0, 0, slots.back(), k[p], v);
    }
    float from_storage[6], direct[6];
    c.storage().key_cosines_to_mean(0, 0, slots, from_storage);
    cosines_to_mean_key(&k[0][0], 3, 2, 2, direct);
    for (int i = 0; i < 6; ++i) EXPECT_EQ(from_storage[i], direct[i]) << i;
}

TEST(KeyScoringPolicies, KnormEvictsTheLargestKeyNorms) { expect_brute_force_evictions(PolicyKind::Knorm); }

TEST(KeyScoringPolicies, KeyDiffEvictsTheKeysMostLikeTheMeanKey) { expect_brute_force_evictions(PolicyKind::KeyDiff); }

TEST(KeyScoringPolicies, ABudgetAsLongAsTheTextEqualsFull) {
    REQUIRE_SHARED_MODEL(model);
    const auto prompt = model->tokenizer().encode("Paris is the capital of France, and Berlin is the capital of", true, true);
    for (PolicyKind kind : {PolicyKind::Knorm, PolicyKind::KeyDiff}) {
        SessionOptions full;
        full.prefill_batch = 1;
        SessionOptions keyed = full;
        keyed.policy = by_keys(kind, static_cast<int32_t>(prompt.size()) + 12);
        Session a(*model, std::make_unique<CpuBackend>(*model, 2), full), b(*model, std::make_unique<CpuBackend>(*model, 2), keyed);
        a.prefill(prompt);
        b.prefill(prompt);
        for (int i = 0; i < 10; ++i) {
            ASSERT_EQ(a.step().token, b.step().token) << policy_kind_name(kind) << " step " << i;
            ASSERT_EQ(a.logits(), b.logits()) << policy_kind_name(kind) << " step " << i;
        }
    }
}
