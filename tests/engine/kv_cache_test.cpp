#include <gtest/gtest.h>

#include "kv/kv_cache.h"
#include "util/error.h"

using namespace kvscope;

namespace {
const KvCacheShape kShape{2, 3, 4};  // 2 layers, 3 KV heads, head dim 4
}

TEST(KvCache, InsertsInSlotOrderAndMapsPositions) {
    KvCache c(kShape, 8);
    for (int32_t p = 0; p < 5; ++p) EXPECT_EQ(c.insert(0, p), p);
    EXPECT_EQ(c.held_count(0), 5);
    EXPECT_EQ(c.held_count(1), 0);
    EXPECT_EQ(c.slot_of(0, 3), 3);
    EXPECT_EQ(c.position_of(0, 4), 4);
    EXPECT_EQ(c.slot_of(0, 7), KvCache::kEmpty);
    EXPECT_EQ(c.position_of(0, 6), KvCache::kEmpty);
}

TEST(KvCache, BytesFollowTheFormula) {
    KvCache c(kShape, 8);
    EXPECT_EQ(c.bytes_per_slot(), 2u * 3 * 4 * 2);
    c.insert(0, 0);
    c.insert(0, 1);
    c.insert(1, 0);
    // 2 × kv_heads × head_dim × held × bytes per value, summed over layers.
    EXPECT_EQ(c.bytes_held(), 2u * 3 * 4 * 3 * 2);
}

TEST(KvCache, EvictedSlotIsReusedAndOrderKept) {
    KvCache c(kShape, 3);
    c.insert(0, 0);
    c.insert(0, 1);
    c.insert(0, 2);
    EXPECT_THROW(c.insert(0, 3), Error);
    c.evict(0, 1);
    EXPECT_EQ(c.slot_of(0, 1), KvCache::kEmpty);
    EXPECT_EQ(c.insert(0, 3), 1);  // the freed slot
    const auto& held = c.held_slots(0);
    ASSERT_EQ(held.size(), 3u);
    EXPECT_EQ(c.position_of(0, held[0]), 0);
    EXPECT_EQ(c.position_of(0, held[1]), 2);
    EXPECT_EQ(c.position_of(0, held[2]), 3);
}

TEST(KvCache, StoresAndLoadsEveryValueType) {
    const KvCacheShape shape{2, 2, 32};  // kv_dim 64: two q8_0 blocks
    std::vector<float> k(64), v(64), k_back(64), v_back(64);
    for (int i = 0; i < 64; ++i) {
        k[static_cast<size_t>(i)] = 0.37f * static_cast<float>(i - 30);
        v[static_cast<size_t>(i)] = -0.11f * static_cast<float>(i) + 1.0f;
    }
    for (KvValueType type : {KvValueType::F32, KvValueType::F16, KvValueType::Q8_0}) {
        KvCache c(shape, 4, type);
        c.insert(1, 0);
        const int32_t slot = c.insert(1, 1);
        c.store(1, slot, k.data(), v.data());
        c.load_k(1, slot, k_back.data());
        c.load_v(1, slot, v_back.data());
        // f32 exact; f16 within half an f16 step; q8_0 within half a step of its block scale.
        const float tolerance = type == KvValueType::F32 ? 0.0f : type == KvValueType::F16 ? 0.01f : 0.06f;
        for (size_t i = 0; i < 64; ++i) {
            EXPECT_NEAR(k_back[i], k[i], tolerance) << kv_value_type_name(type) << " k[" << i << "]";
            EXPECT_NEAR(v_back[i], v[i], tolerance) << kv_value_type_name(type) << " v[" << i << "]";
        }
    }
}

TEST(KvCache, BytesPerValueFollowTheType) {
    const KvCacheShape shape{3, 2, 64};
    EXPECT_EQ(KvCache(shape, 4, KvValueType::F32).bytes_per_slot(), 2u * 2 * 64 * 4);
    EXPECT_EQ(KvCache(shape, 4, KvValueType::F16).bytes_per_slot(), 2u * 2 * 64 * 2);
    // q8_0: 34 bytes per 32 values.
    EXPECT_EQ(KvCache(shape, 4, KvValueType::Q8_0).bytes_per_slot(), 2u * 2 * 64 * 34 / 32);
    EXPECT_DOUBLE_EQ(KvCache(shape, 4, KvValueType::Q8_0).bytes_per_value(), 34.0 / 32.0);
    EXPECT_THROW(KvCache(KvCacheShape{1, 1, 16}, 4, KvValueType::Q8_0), InvalidSetting);
}

TEST(KvCache, RejectsDuplicatePositionAndBadCapacity) {
    KvCache c(kShape, 4);
    c.insert(0, 5);
    EXPECT_THROW(c.insert(0, 5), Error);
    EXPECT_THROW(KvCache(kShape, 0), InvalidSetting);
}

TEST(KvCache, ClearEmptiesEveryLayer) {
    KvCache c(kShape, 4);
    c.insert(0, 0);
    c.insert(1, 0);
    c.clear();
    EXPECT_EQ(c.held_count(0), 0);
    EXPECT_EQ(c.bytes_held(), 0u);
    EXPECT_EQ(c.insert(0, 0), 0);
}
