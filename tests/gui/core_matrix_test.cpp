// AttentionMatrix against a real session (SmolLM2, sinks(4) + window(16), so
// positions get evicted): cell values equal the engine's probabilities under
// every head selection, evicted cells are NaN, future cells are future, sink
// columns and window starts follow the cache views; plus the pyramid, bad
// input and the export data.
#include <QtTest>

#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "core/attention_matrix.h"
#include "gui_test_support.h"
#include "session/session.h"

using namespace kvscope;
using namespace kvscope::gui;

namespace {

// The rows and views a real decode produced, per query (prompt rows carry the
// prefill's view, generated rows the view of their step).
struct Trace {
    std::vector<QueryAttention> rows;
    std::vector<LayerCacheView> views;  // [rows] of the layer under test
    std::vector<std::vector<int32_t>> gqa_groups;
};

Trace run_session(const Model& model, int32_t layer, int steps) {
    auto backend = std::make_unique<CpuBackend>(model, 2);
    SessionOptions opt;
    opt.n_ctx = 256;
    opt.capture_attention = true;
    opt.policy.kind = PolicyKind::SinksWindow;
    opt.policy.window = 16;
    opt.policy.sinks = 4;
    Session session(model, std::move(backend), opt);
    session.prefill(model.tokenizer().encode("The capital of France is Paris, and the capital of Italy is",
                                             /*add_special=*/true, /*parse_special=*/false));
    Trace t;
    const StepSnapshot& pre = session.prefill_snapshot();
    for (const auto& row : pre.attention) {
        t.rows.push_back(row);
        t.views.push_back(pre.layers.at(static_cast<std::size_t>(layer)));
    }
    for (int i = 0; i < steps; ++i) {
        const StepSnapshot s = session.step();
        t.gqa_groups = s.gqa_groups;
        for (const auto& row : s.attention) {
            t.rows.push_back(row);
            t.views.push_back(s.layers.at(static_cast<std::size_t>(layer)));
        }
    }
    return t;
}

// The selection's value at key index j of a LayerAttention, computed here
// independently of the matrix (double accumulation).
double expected_value(const LayerAttention& a, const HeadSelection& s, const std::vector<std::vector<int32_t>>& groups,
                      std::size_t j) {
    const std::size_t n = a.key_positions.size();
    const std::size_t n_head = a.probs.size() / n;
    auto p = [&](std::size_t h) { return static_cast<double>(a.probs[h * n + j]); };
    switch (s.mode) {
        case HeadReduce::Head: return p(static_cast<std::size_t>(s.index));
        case HeadReduce::Max: {
            double m = -1;
            for (std::size_t h = 0; h < n_head; ++h) m = std::max(m, p(h));
            return m;
        }
        case HeadReduce::Mean: {
            double sum = 0;
            for (std::size_t h = 0; h < n_head; ++h) sum += p(h);
            return sum / static_cast<double>(n_head);
        }
        case HeadReduce::KvGroup: {
            double sum = 0;
            const auto& g = groups[static_cast<std::size_t>(s.index)];
            for (int32_t h : g) sum += p(static_cast<std::size_t>(h));
            return sum / static_cast<double>(g.size());
        }
    }
    return 0;
}

LayerAttention tiny_attention(std::vector<int32_t> keys, std::vector<float> probs) {
    LayerAttention a;
    a.key_positions = std::move(keys);
    a.probs = std::move(probs);
    return a;
}

}  // namespace

class CoreMatrixTest : public QObject {
    Q_OBJECT
private slots:
    void valuesEqualEngineProbabilities();
    void evictedFutureSinksAndWindow();
    void pyramidIsMaxPooled();
    void localLayersShowTheirOwnWindowEdge();
    void rejectsBadInput();
    void heatmapDataOfVisibleRows();
    void sinkMarksEndWhereTheSinksWereEvicted();
    void describesSelections();
};

void CoreMatrixTest::valuesEqualEngineProbabilities() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    const int32_t layer = 5;
    const Trace t = run_session(model, layer, 20);
    QVERIFY(t.rows.size() > 30);
    QCOMPARE(t.gqa_groups.size(), std::size_t{3});  // SmolLM2-135M: 9 query heads, 3 KV heads
    const std::vector<HeadSelection> selections{{HeadReduce::Head, 4}, {HeadReduce::Mean, 0}, {HeadReduce::Max, 0},
                                                {HeadReduce::KvGroup, 1}};
    for (const HeadSelection& sel : selections) {
        AttentionMatrix m;
        for (std::size_t i = 0; i < t.rows.size(); ++i)
            m.append(t.rows[i].position, t.rows[i].layers.at(layer), sel, t.gqa_groups, &t.views[i]);
        QCOMPARE(m.rows(), static_cast<int32_t>(t.rows.size()));
        QCOMPARE(m.columns(), t.rows.back().position + 1);
        int checked = 0;
        for (int32_t r = 0; r < m.rows(); ++r) {
            const LayerAttention& a = t.rows[static_cast<std::size_t>(r)].layers.at(layer);
            QCOMPARE(m.query_position(r), t.rows[static_cast<std::size_t>(r)].position);
            for (std::size_t j = 0; j < a.key_positions.size(); ++j) {
                const double want = expected_value(a, sel, t.gqa_groups, j);
                const float got = m.value(r, a.key_positions[j]);
                if (std::abs(got - want) > 1e-6 * std::max(1.0, std::abs(want)))
                    QFAIL(qPrintable(QStringLiteral("%1: row %2 key %3: %4 != %5")
                                         .arg(describe(sel)).arg(r).arg(a.key_positions[j]).arg(got).arg(want)));
                if (sel.mode == HeadReduce::Head) QCOMPARE(got, a.probs[4 * a.key_positions.size() + j]);  // exact
                ++checked;
            }
        }
        QVERIFY(checked > 300);
    }
}

void CoreMatrixTest::evictedFutureSinksAndWindow() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    const int32_t layer = 0;
    const Trace t = run_session(model, layer, 20);
    AttentionMatrix m;
    for (std::size_t i = 0; i < t.rows.size(); ++i)
        m.append(t.rows[i].position, t.rows[i].layers.at(layer), HeadSelection{}, t.gqa_groups, &t.views[i]);
    int evicted = 0, windowed_rows = 0;
    for (int32_t r = 0; r < m.rows(); ++r) {
        const int32_t q = m.query_position(r);
        const auto& keys = t.rows[static_cast<std::size_t>(r)].layers.at(layer).key_positions;
        for (int32_t k = 0; k <= q; ++k) {
            const bool held = std::find(keys.begin(), keys.end(), k) != keys.end();
            QCOMPARE(m.is_future(r, k), false);
            QCOMPARE(std::isnan(m.value(r, k)), !held);  // not held <=> NaN
            if (!held) ++evicted;
        }
        QVERIFY(m.is_future(r, q + 1));
        QVERIFY(std::isnan(m.value(r, q + 1)));
        // Sinks(4) + window(16): a query attends to 4 sinks + its last 12 positions.
        if (q >= 16) QCOMPARE(static_cast<int32_t>(keys.size()), 16);

        // Window start from the row's view: the first held Window-role
        // position once anything before it is gone.
        const LayerCacheView& v = t.views[static_cast<std::size_t>(r)];
        int32_t want = -1;
        for (std::size_t i = 0; i < v.held_positions.size(); ++i)
            if (v.held_roles[i] == SlotRole::Window) {
                if (v.held_positions[i] > static_cast<int32_t>(i)) want = v.held_positions[i];
                break;
            }
        QCOMPARE(m.window_start(r), want);
        if (want >= 0) {
            ++windowed_rows;
            QVERIFY(want > 4);
            QVERIFY(std::isnan(m.value(r, 4)));  // the first position after the sinks is evicted
        }
    }
    QVERIFY2(evicted > 100, "the sinks+window policy should have evicted cells");
    QVERIFY(windowed_rows > 10);
    QCOMPARE(m.sink_columns(), (std::vector<int32_t>{0, 1, 2, 3}));
    QVERIFY(m.global_columns().empty());
    m.clear();
    QCOMPARE(m.rows(), 0);
    QCOMPARE(m.columns(), 0);
    QVERIFY(m.sink_columns().empty());
    QVERIFY(m.pyramid().empty());
}

// A local layer (its view's native_window) has its window edge drawn at
// q − W + 1 whether the keys before it are held (swa_full) or gone; a policy
// window that starts later wins (the two are intersected).
void CoreMatrixTest::localLayersShowTheirOwnWindowEdge() {
    const std::vector<std::vector<int32_t>> groups{{0}};
    for (const int32_t policy_window : {0, 6}) {
        AttentionMatrix m;
        for (int32_t q = 0; q < 20; ++q) {
            LayerAttention a;
            LayerCacheView v;
            v.native_window = 8;
            const int32_t first_held = policy_window > 0 ? std::max(0, q - policy_window + 1) : 0;  // swa_full: all
            for (int32_t k = first_held; k <= q; ++k) {
                a.key_positions.push_back(k);
                a.probs.push_back(k > q - 8 ? 1.0f / 8 : 0.0f);
                v.held_positions.push_back(k);
                v.held_roles.push_back(SlotRole::Window);
            }
            m.append(q, a, HeadSelection{HeadReduce::Head, 0}, groups, &v);
        }
        for (int32_t r = 0; r < m.rows(); ++r) {
            const int32_t native = r - 8 + 1 > 0 ? r - 8 + 1 : -1;
            const int32_t policy = policy_window > 0 && r - policy_window + 1 > 0 ? r - policy_window + 1 : -1;
            QCOMPARE(m.window_start(r), std::max(native, policy));
        }
    }
}

void CoreMatrixTest::pyramidIsMaxPooled() {
    // 40 rows, each holding every 3rd key with value (q*1000+k)/1e6, with global pins at 5 and 7.
    AttentionMatrix m;
    const std::vector<std::vector<int32_t>> groups{{0}};
    for (int32_t q = 0; q < 40; ++q) {
        LayerAttention a;
        LayerCacheView v;
        for (int32_t k = 0; k <= q; ++k) {
            if (k % 3 != 0 && k != q) continue;
            a.key_positions.push_back(k);
            a.probs.push_back(static_cast<float>(q * 1000 + k) / 1e6f);
            v.held_positions.push_back(k);
            v.held_roles.push_back(k == 6 ? SlotRole::Global : SlotRole::Window);
        }
        m.append(q, a, HeadSelection{HeadReduce::Head, 0}, groups, &v);
    }
    QCOMPARE(m.global_columns(), std::vector<int32_t>{6});
    QCOMPARE(m.window_start(10), -1);  // position 0 is held: no gap before the first window position
    QVERIFY(!m.pyramid().empty());
    for (const auto& level : m.pyramid()) {
        const int32_t b = level.block;
        for (int32_t R = 0; R < static_cast<int32_t>(level.rows.size()); ++R)
            for (int32_t K = 0; K < static_cast<int32_t>(level.rows[static_cast<std::size_t>(R)].size()); ++K) {
                // Brute force over the block.
                float want = kCellFuture;
                for (int32_t r = R * b; r < std::min((R + 1) * b, m.rows()); ++r)
                    for (int32_t k = K * b; k < (K + 1) * b && k < m.row_length(r); ++k) {
                        const float v = m.value(r, k);
                        want = std::max(want, std::isnan(v) ? kCellNotHeld : v);
                    }
                QCOMPARE(level.rows[static_cast<std::size_t>(R)][static_cast<std::size_t>(K)], want);
            }
    }
}

void CoreMatrixTest::rejectsBadInput() {
    AttentionMatrix m;
    const std::vector<std::vector<int32_t>> groups{{0, 1}, {2, 3}};
    const LayerAttention ok = tiny_attention({0, 1}, {0.5f, 0.5f, 0.2f, 0.8f, 0.1f, 0.9f, 0.3f, 0.7f});  // 4 heads
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, m.append(1, tiny_attention({0, 1}, {0.5f, 0.5f, 0.1f}),
                                                             HeadSelection{}, groups, nullptr));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, m.append(1, ok, HeadSelection{HeadReduce::Head, 4}, groups, nullptr));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, m.append(1, ok, HeadSelection{HeadReduce::Head, -1}, groups, nullptr));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, m.append(1, ok, HeadSelection{HeadReduce::KvGroup, 2}, groups, nullptr));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, m.append(0, ok, HeadSelection{}, groups, nullptr));  // key 1 > query 0
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                             m.append(2, tiny_attention({1, 0}, std::vector<float>(8, 0.5f)), HeadSelection{}, groups, nullptr));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                             m.append(1, tiny_attention({0, 1}, {std::numeric_limits<float>::quiet_NaN(), 1, 0, 1, 0, 1, 0, 1}),
                                      HeadSelection{}, groups, nullptr));
    LayerCacheView bad_view;
    bad_view.held_positions = {0, 1};
    bad_view.held_roles = {SlotRole::Sink};
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, m.append(1, ok, HeadSelection{}, groups, &bad_view));
    QCOMPARE(m.rows(), 0);  // nothing half-appended
    m.append(1, ok, HeadSelection{HeadReduce::KvGroup, 1}, groups, nullptr);
    QCOMPARE(m.value(0, 1), (0.9f + 0.7f) / 2);
    QVERIFY(std::isnan(m.value(0, 5)));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, m.append(1, ok, HeadSelection{}, groups, nullptr));  // not increasing
    QVERIFY_THROWS_EXCEPTION(std::out_of_range, m.query_position(1));
    QCOMPARE(m.rows(), 1);
}

void CoreMatrixTest::heatmapDataOfVisibleRows() {
    AttentionMatrix m;
    const std::vector<std::vector<int32_t>> groups{{0}};
    LayerCacheView v;
    v.held_positions = {0, 2};
    v.held_roles = {SlotRole::Sink, SlotRole::Window};
    m.append(0, tiny_attention({0}, {1.0f}), HeadSelection{}, groups, nullptr);
    m.append(1, tiny_attention({0, 1}, {0.25f, 0.75f}), HeadSelection{}, groups, nullptr);
    m.append(2, tiny_attention({0, 2}, {0.4f, 0.6f}), HeadSelection{}, groups, &v);
    QCOMPARE(m.window_start(2), 2);

    const auto d = m.to_heatmap_data(2, [](int32_t p) { return std::string(1, static_cast<char>('a' + p)); }, "t");
    QCOMPARE(d.query_positions, (std::vector<int32_t>{0, 1}));
    QCOMPARE(d.key_positions, (std::vector<int32_t>{0, 1}));
    QCOMPARE(d.values.size(), std::size_t{4});
    QCOMPARE(d.values[0], 1.0f);
    QVERIFY(std::isnan(d.values[1]));  // future
    QCOMPARE(d.values[2], 0.25f);
    QCOMPARE(d.values[3], 0.75f);
    QCOMPARE(d.key_labels, (std::vector<std::string>{"a", "b"}));
    QVERIFY(d.window_edges.empty());
    QVERIFY(d.sink_marks.empty());  // key 0 is a sink from row 2 on, which is not shown
    QCOMPARE(d.title, std::string("t"));

    const auto all = m.to_heatmap_data(3);
    QCOMPARE(all.key_positions.size(), std::size_t{3});
    QVERIFY(std::isnan(all.values[2 * 3 + 1]));  // evicted
    QCOMPARE(all.window_edges, (std::vector<std::pair<int32_t, int32_t>>{{2, 2}}));
    QCOMPARE(all.sink_marks, (std::vector<render::MarkSpan>{{0, 2, 2}}));
    QVERIFY(all.key_labels.empty());
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, m.to_heatmap_data(4));
}

// sinks(2)+window for rows 0-9, then a switch to a plain window evicts the
// sinks: their marks cover rows 0-9 only; a pin held in rows 12-14 is marked
// there alone.
void CoreMatrixTest::sinkMarksEndWhereTheSinksWereEvicted() {
    AttentionMatrix m;
    const std::vector<std::vector<int32_t>> groups{{0}};
    for (int32_t q = 0; q < 20; ++q) {
        std::vector<int32_t> keys;
        std::vector<float> probs;
        LayerCacheView v;
        for (int32_t k = 0; k <= q; ++k) {
            const bool sink = q < 10 && k < 2, pinned = q >= 12 && q <= 14 && k == 5, recent = q - k < 4;
            if (!sink && !pinned && !recent) continue;
            keys.push_back(k);
            probs.push_back(0.0f);
            v.held_positions.push_back(k);
            v.held_roles.push_back(sink ? SlotRole::Sink : pinned ? SlotRole::Global : SlotRole::Window);
        }
        for (float& p : probs) p = 1.0f / static_cast<float>(probs.size());
        m.append(q, tiny_attention(keys, probs), HeadSelection{}, groups, &v);
    }
    QCOMPARE(m.sink_spans(), (std::vector<render::MarkSpan>{{0, 0, 9}, {1, 1, 9}}));
    QCOMPARE(m.global_spans(), (std::vector<render::MarkSpan>{{5, 12, 14}}));
    const auto d = m.to_heatmap_data(13);  // cut at the last row shown
    QCOMPARE(d.sink_marks, (std::vector<render::MarkSpan>{{0, 0, 9}, {1, 1, 9}}));
    QCOMPARE(d.global_marks, (std::vector<render::MarkSpan>{{5, 12, 12}}));
}

void CoreMatrixTest::describesSelections() {
    QCOMPARE(describe(HeadSelection{HeadReduce::Head, 3}), QStringLiteral("head 3"));
    QCOMPARE(describe(HeadSelection{HeadReduce::Mean, 0}), QStringLiteral("mean of heads"));
    QCOMPARE(describe(HeadSelection{HeadReduce::Max, 0}), QStringLiteral("max of heads"));
    QCOMPARE(describe(HeadSelection{HeadReduce::KvGroup, 1}), QStringLiteral("KV group 1"));
}

QTEST_MAIN(CoreMatrixTest)
#include "core_matrix_test.moc"
