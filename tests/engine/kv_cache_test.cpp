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

TEST(KvCache, StoresValuesPerSlot) {
    KvCache c(kShape, 4);
    const int32_t s0 = c.insert(1, 0), s1 = c.insert(1, 1);
    for (int i = 0; i < 12; ++i) {
        c.k_slot(1, s0)[i] = static_cast<uint16_t>(i);
        c.v_slot(1, s1)[i] = static_cast<uint16_t>(100 + i);
    }
    EXPECT_EQ(c.k_slot(1, s0)[11], 11);
    EXPECT_EQ(c.v_slot(1, s1)[0], 100);
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
