// The KV cache's bookkeeping (slots, order, reuse, groups, accounting) over
// the CPU backend's storage, and that storage itself: paged growth that never
// moves what is held, every value type stored and read back, key norms.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "backend/cpu/cpu_kv_storage.h"
#include "kv/kv_cache.h"
#include "util/error.h"

using namespace kvscope;

namespace {

const KvCacheShape kShape{2, 3, 4};  // 2 layers, 3 KV heads, head dim 4

KvCache make_cache(const KvCacheShape& shape, int32_t capacity, KvValueType type = KvValueType::F16) {
    KvLayout layout = KvLayout::uniform(shape, capacity, type);
    auto storage = std::make_unique<CpuKvStorage>(layout);
    return KvCache(std::move(layout), std::move(storage));
}

CpuKvStorage& cpu(KvCache& c) { return dynamic_cast<CpuKvStorage&>(c.storage()); }

}  // namespace

TEST(KvCache, InsertsInSlotOrderAndMapsPositions) {
    KvCache c = make_cache(kShape, 8);
    for (int32_t p = 0; p < 5; ++p) EXPECT_EQ(c.insert(0, p), p);
    EXPECT_EQ(c.held_count(0), 5);
    EXPECT_EQ(c.held_count(1), 0);
    EXPECT_EQ(c.slot_of(0, 3), 3);
    EXPECT_EQ(c.position_of(0, 4), 4);
    EXPECT_EQ(c.slot_of(0, 7), KvCache::kEmpty);
    EXPECT_EQ(c.position_of(0, 6), KvCache::kEmpty);
}

TEST(KvCache, BytesFollowTheFormula) {
    KvCache c = make_cache(kShape, 8);
    EXPECT_EQ(c.bytes_per_slot(), 2u * 3 * 4 * 2);
    c.insert(0, 0);
    c.insert(0, 1);
    c.insert(1, 0);
    // 2 × kv_heads × head_dim × held × bytes per value, summed over layers.
    EXPECT_EQ(c.bytes_held(), 2u * 3 * 4 * 3 * 2);
}

TEST(KvCache, EvictedSlotIsReusedAndOrderKept) {
    KvCache c = make_cache(kShape, 3);
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

// Storage grows a page (16 slots) at a time as positions arrive, never for an
// eviction, and a slot's bytes stay where they are while pages are added.
TEST(KvCache, StorageGrowsByPagesAndNeverMovesWhatItHolds) {
    KvCache c = make_cache(kShape, 100);
    const size_t page = 2u * kPageSize * 3 * 4 * 2;  // K and V of 16 slots, 3 heads × 4 values of f16
    EXPECT_EQ(c.bytes_allocated(), 0u);
    c.insert(0, 0);
    EXPECT_EQ(c.bytes_allocated(), page);
    const uint16_t* first = cpu(c).k_page_f16(0, 0, 0);
    for (int32_t p = 1; p < 16; ++p) c.insert(0, p);
    EXPECT_EQ(c.bytes_allocated(), page);
    c.insert(0, 16);  // slot 16: a second page
    EXPECT_EQ(c.bytes_allocated(), 2 * page);
    EXPECT_EQ(cpu(c).k_page_f16(0, 0, 0), first);  // slot 0's page did not move
    c.evict(0, 3);
    c.insert(0, 17);  // takes the freed slot 3: no new page
    EXPECT_EQ(c.slot_of(0, 17), 3);
    EXPECT_EQ(c.bytes_allocated(), 2 * page);
    c.insert(1, 0);
    EXPECT_EQ(c.bytes_allocated(), 3 * page);
}

TEST(KvCache, StoresAndLoadsEveryValueType) {
    const KvCacheShape shape{2, 2, 32};  // kv_dim 64: two q8_0 blocks
    std::vector<float> k(64), v(64), k_back(64), v_back(64);
    for (int i = 0; i < 64; ++i) {
        k[static_cast<size_t>(i)] = 0.37f * static_cast<float>(i - 30);
        v[static_cast<size_t>(i)] = -0.11f * static_cast<float>(i) + 1.0f;
    }
    for (KvValueType type : {KvValueType::F32, KvValueType::F16, KvValueType::Q8_0}) {
        KvCache c = make_cache(shape, 4, type);
        const int32_t neighbour = c.insert(1, 0);
        const int32_t slot = c.insert(1, 1);
        cpu(c).store(1, 0, slot, k.data(), v.data());
        // A neighbour in the same page (f16 pages interleave their slots) written after it.
        cpu(c).store(1, 0, neighbour, v.data(), k.data());
        cpu(c).load_k(1, 0, slot, k_back.data());
        cpu(c).load_v(1, 0, slot, v_back.data());
        // f32 exact; f16 within half an f16 step; q8_0 within half a step of its block scale.
        const float tolerance = type == KvValueType::F32 ? 0.0f : type == KvValueType::F16 ? 0.01f : 0.06f;
        for (size_t i = 0; i < 64; ++i) {
            EXPECT_NEAR(k_back[i], k[i], tolerance) << kv_value_type_name(type) << " k[" << i << "]";
            EXPECT_NEAR(v_back[i], v[i], tolerance) << kv_value_type_name(type) << " v[" << i << "]";
        }
    }
}

// Key norms come from the backend's storage (policies never read the bytes).
TEST(KvCache, KeyNormsArePerHeadOfTheStoredKeys) {
    const KvCacheShape shape{1, 2, 4};
    KvCache c = make_cache(shape, 4, KvValueType::F32);
    const int32_t a = c.insert(0, 0), b = c.insert(0, 1);
    const float ka[8] = {3, 4, 0, 0, 1, 1, 1, 1}, kb[8] = {0, 0, 0, 2, 1, 2, 2, 4}, v[8] = {};
    cpu(c).store(0, 0, a, ka, v);
    cpu(c).store(0, 0, b, kb, v);
    float norms[4];
    c.storage().key_norms(0, 0, {b, a}, norms);  // [slots][heads]
    EXPECT_FLOAT_EQ(norms[0], 2.0f);
    EXPECT_FLOAT_EQ(norms[1], 5.0f);
    EXPECT_FLOAT_EQ(norms[2], 5.0f);
    EXPECT_FLOAT_EQ(norms[3], 2.0f);
}

// Each KV head its own slot list (per-head budgets): the bookkeeping keeps
// them apart and counts what each holds.
TEST(KvCache, SlotGroupsPerKvHeadKeepTheirOwnSlots) {
    KvLayout layout = KvLayout::uniform(kShape, 8, KvValueType::F16);
    layout.heads_per_group = {1, 3};  // layer 0: one group per KV head; layer 1: one group of all three
    auto storage = std::make_unique<CpuKvStorage>(layout);
    KvCache c(std::move(layout), std::move(storage));
    EXPECT_EQ(c.groups(0), 3);
    EXPECT_EQ(c.groups(1), 1);
    EXPECT_EQ(c.group_of(0, 2), 2);
    EXPECT_EQ(c.group_of(1, 2), 0);
    for (int32_t p = 0; p < 4; ++p) c.insert(0, p);  // every group of layer 0
    c.evict(0, 1, 2);                                   // group 1 lets position 2 go
    c.insert(0, 1, 9);                                  // and takes position 9 in its slot
    EXPECT_EQ(c.slot_of(0, 1, 9), 2);
    EXPECT_EQ(c.slot_of(0, 0, 9), KvCache::kEmpty);
    EXPECT_EQ(c.held_slots(0, 1).size(), 4u);
    EXPECT_EQ(c.position_of(0, 1, c.held_slots(0, 1).back()), 9);
    // Bytes: layer 0 holds 4 positions in each of 3 single-head groups.
    EXPECT_EQ(c.bytes_held(), 4u * 3 * 2 * 4 * 2);
    KvLayout bad = KvLayout::uniform(kShape, 8);
    bad.heads_per_group = {2, 3};  // 2 does not divide 3 heads
    EXPECT_THROW(bad.validate(), InvalidSetting);
}

TEST(KvCache, BytesPerValueFollowTheType) {
    const KvCacheShape shape{3, 2, 64};
    EXPECT_EQ(make_cache(shape, 4, KvValueType::F32).bytes_per_slot(), 2u * 2 * 64 * 4);
    EXPECT_EQ(make_cache(shape, 4, KvValueType::F16).bytes_per_slot(), 2u * 2 * 64 * 2);
    // q8_0: 34 bytes per 32 values.
    EXPECT_EQ(make_cache(shape, 4, KvValueType::Q8_0).bytes_per_slot(), 2u * 2 * 64 * 34 / 32);
    EXPECT_DOUBLE_EQ(make_cache(shape, 4, KvValueType::Q8_0).bytes_per_value(), 34.0 / 32.0);
    EXPECT_THROW(make_cache(KvCacheShape{1, 1, 16}, 4, KvValueType::Q8_0), InvalidSetting);
    // Any head size: Gemma 3's 256.
    EXPECT_EQ(make_cache(KvCacheShape{1, 1, 256}, 4, KvValueType::F16).bytes_per_slot(), 2u * 256 * 2);
}

TEST(KvCache, RejectsDuplicatePositionAndBadCapacity) {
    KvCache c = make_cache(kShape, 4);
    c.insert(0, 5);
    EXPECT_THROW(c.insert(0, 5), Error);
    EXPECT_THROW(make_cache(kShape, 0), InvalidSetting);
}

TEST(KvCache, ClearEmptiesEveryLayer) {
    KvCache c = make_cache(kShape, 4);
    c.insert(0, 0);
    c.insert(1, 0);
    const size_t allocated = c.bytes_allocated();
    c.clear();
    EXPECT_EQ(c.held_count(0), 0);
    EXPECT_EQ(c.bytes_held(), 0u);
    EXPECT_EQ(c.bytes_allocated(), allocated);  // the pages stay for the next run
    EXPECT_EQ(c.insert(0, 0), 0);
}
