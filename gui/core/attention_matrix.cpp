#include "core/attention_matrix.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <stdexcept>
#include <string>

namespace kvscope::gui {

namespace {

// Largest pyramid block: at 64 a 4,096-token matrix is 64 x 64 block cells,
// below any plot's pixel size, so coarser levels would never be read.
constexpr int32_t kMaxBlock = 64;

uint64_t next_generation() {
    static std::atomic<uint64_t> counter{1};
    return counter.fetch_add(1);
}

[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument("attention matrix: " + what); }

// Inserts `value` into the ascending, duplicate-free `sorted`.
void insert_sorted(std::vector<int32_t>& sorted, int32_t value) {
    auto it = std::lower_bound(sorted.begin(), sorted.end(), value);
    if (it == sorted.end() || *it != value) sorted.insert(it, value);
}

// Max-pools `row` by 2 along its length (a trailing odd cell stays alone).
std::vector<float> pool_pairs(const std::vector<float>& row) {
    std::vector<float> pooled((row.size() + 1) / 2);
    for (std::size_t i = 0; i < pooled.size(); ++i) {
        const std::size_t a = 2 * i, b = 2 * i + 1;
        pooled[i] = b < row.size() ? std::max(row[a], row[b]) : row[a];
    }
    return pooled;
}

// The heads whose probabilities a selection combines, and whether it averages them.
std::vector<int32_t> selected_heads(const HeadSelection& s, int32_t n_head,
                                    const std::vector<std::vector<int32_t>>& gqa_groups) {
    std::vector<int32_t> heads;
    switch (s.mode) {
        case HeadReduce::Head:
            if (s.index < 0 || s.index >= n_head)
                fail("head " + std::to_string(s.index) + " out of range [0, " + std::to_string(n_head) + ")");
            heads.push_back(s.index);
            break;
        case HeadReduce::Mean:
        case HeadReduce::Max:
            for (int32_t h = 0; h < n_head; ++h) heads.push_back(h);
            break;
        case HeadReduce::KvGroup: {
            const auto n_groups = static_cast<int32_t>(gqa_groups.size());
            if (s.index < 0 || s.index >= n_groups)
                fail("KV group " + std::to_string(s.index) + " out of range [0, " + std::to_string(n_groups) + ")");
            heads = gqa_groups[static_cast<std::size_t>(s.index)];
            if (heads.empty()) fail("KV group " + std::to_string(s.index) + " has no query heads");
            for (int32_t h : heads)
                if (h < 0 || h >= n_head)
                    fail("KV group " + std::to_string(s.index) + " names head " + std::to_string(h) + " of " +
                         std::to_string(n_head));
            break;
        }
    }
    return heads;
}

}  // namespace

QString describe(const HeadSelection& s) {
    switch (s.mode) {
        case HeadReduce::Head: return QStringLiteral("head %1").arg(s.index);
        case HeadReduce::Mean: return QStringLiteral("mean of heads");
        case HeadReduce::Max: return QStringLiteral("max of heads");
        case HeadReduce::KvGroup: return QStringLiteral("KV group %1").arg(s.index);
    }
    return {};
}

AttentionMatrix::AttentionMatrix() : generation_(next_generation()) {}

int32_t AttentionMatrix::columns() const { return query_positions_.empty() ? 0 : query_positions_.back() + 1; }

void AttentionMatrix::check_row(int32_t row) const {
    if (row < 0 || row >= rows())
        throw std::out_of_range("attention matrix: row " + std::to_string(row) + " out of range [0, " +
                                std::to_string(rows()) + ")");
}

int32_t AttentionMatrix::query_position(int32_t row) const {
    check_row(row);
    return query_positions_[static_cast<std::size_t>(row)];
}

bool AttentionMatrix::is_future(int32_t row, int32_t key_position) const {
    return key_position > query_position(row);
}

float AttentionMatrix::value(int32_t row, int32_t key_position) const {
    if (key_position < 0 || is_future(row, key_position)) return std::numeric_limits<float>::quiet_NaN();
    const float v = row_cells(row)[key_position];
    return v == kCellNotHeld ? std::numeric_limits<float>::quiet_NaN() : v;
}

int32_t AttentionMatrix::window_start(int32_t row) const {
    check_row(row);
    return window_starts_[static_cast<std::size_t>(row)];
}

void AttentionMatrix::clear() {
    query_positions_.clear();
    row_offsets_.clear();
    cells_.clear();
    window_starts_.clear();
    sink_columns_.clear();
    global_columns_.clear();
    sink_spans_.clear();
    global_spans_.clear();
    open_sink_span_.clear();
    open_global_span_.clear();
    pyramid_.clear();
    generation_ = next_generation();
}

void AttentionMatrix::append(int32_t query_position, const LayerAttention& attention, const HeadSelection& selection,
                             const std::vector<std::vector<int32_t>>& gqa_groups, const LayerCacheView* view) {
    // Validate everything first: a throw leaves the matrix as it was.
    if (query_position < 0) fail("negative query position " + std::to_string(query_position));
    if (!query_positions_.empty() && query_position <= query_positions_.back())
        fail("query position " + std::to_string(query_position) + " does not follow " +
             std::to_string(query_positions_.back()));
    const auto n_keys = static_cast<int32_t>(attention.key_positions.size());
    if (n_keys == 0 && !attention.probs.empty())
        fail(std::to_string(attention.probs.size()) + " probabilities for no keys");
    if (n_keys > 0 && (attention.probs.empty() || attention.probs.size() % static_cast<std::size_t>(n_keys) != 0))
        fail(std::to_string(attention.probs.size()) + " probabilities are not n_head x " + std::to_string(n_keys) +
             " keys");
    // With no keys (nothing held) the head count comes from the GQA groups.
    std::size_t group_heads = 0;
    for (const auto& group : gqa_groups) group_heads += group.size();
    const auto n_head = static_cast<int32_t>(n_keys == 0 ? group_heads : attention.probs.size() / static_cast<std::size_t>(n_keys));
    for (int32_t j = 0; j < n_keys; ++j) {
        const int32_t k = attention.key_positions[static_cast<std::size_t>(j)];
        if (k < 0 || k > query_position)
            fail("key position " + std::to_string(k) + " outside [0, " + std::to_string(query_position) + "]");
        if (j > 0 && k <= attention.key_positions[static_cast<std::size_t>(j) - 1])
            fail("key positions not increasing at " + std::to_string(k));
    }
    const std::vector<int32_t> heads = selected_heads(selection, n_head, gqa_groups);
    if (view != nullptr) {
        if (view->held_roles.size() != view->held_positions.size())
            fail(std::to_string(view->held_roles.size()) + " roles for " + std::to_string(view->held_positions.size()) +
                 " held positions");
        for (std::size_t i = 1; i < view->held_positions.size(); ++i)
            if (view->held_positions[i] <= view->held_positions[i - 1]) fail("held positions not increasing");
    }

    // The row: the selection's value per held key, not held elsewhere.  [query_position + 1]
    std::vector<float> row(static_cast<std::size_t>(query_position) + 1, kCellNotHeld);
    const bool take_max = selection.mode == HeadReduce::Max;
    const float inv_heads = heads.empty() ? 0.0f : 1.0f / static_cast<float>(heads.size());
    for (int32_t j = 0; j < n_keys; ++j) {
        float acc = take_max ? -std::numeric_limits<float>::infinity() : 0.0f;
        for (int32_t h : heads) {
            const float p = attention.probs[static_cast<std::size_t>(h) * static_cast<std::size_t>(n_keys) +
                                            static_cast<std::size_t>(j)];
            if (!std::isfinite(p))
                fail("non-finite probability of head " + std::to_string(h) + " at key " +
                     std::to_string(attention.key_positions[static_cast<std::size_t>(j)]));
            acc = take_max ? std::max(acc, p) : acc + p;
        }
        row[static_cast<std::size_t>(attention.key_positions[static_cast<std::size_t>(j)])] =
            take_max ? acc : acc * inv_heads;
    }

    // Window start: the first held Window-role position, when positions before it are missing
    // (held positions are distinct and >= 0, so position p at rank i has a gap before it iff p > i).
    int32_t window = -1;
    if (view != nullptr) {
        for (std::size_t i = 0; i < view->held_positions.size(); ++i) {
            if (view->held_roles[i] != SlotRole::Window) continue;
            if (view->held_positions[i] > static_cast<int32_t>(i)) window = view->held_positions[i];
            break;
        }
        // A local layer (Gemma 3, Phi-3) sees no key before its own window,
        // held (swa_full) or not: the edge is the later of the two.
        if (view->native_window > 0 && query_position - view->native_window + 1 > 0)
            window = std::max(window, query_position - view->native_window + 1);
    }

    query_positions_.push_back(query_position);
    if (view != nullptr) mark_columns(*view, rows() - 1);
    row_offsets_.push_back(cells_.size());
    cells_.insert(cells_.end(), row.begin(), row.end());
    window_starts_.push_back(window);
    add_to_pyramid(row);
}

namespace {

// Row `row` holds `key` in the role of `spans`: extends the key's span when it
// ended at the row before, else starts a new one.
void extend_span(std::vector<render::MarkSpan>& spans, std::unordered_map<int32_t, std::size_t>& open, int32_t key,
                 int32_t row) {
    const auto it = open.find(key);
    if (it != open.end() && spans[it->second].last_row == row - 1) {
        spans[it->second].last_row = row;
        return;
    }
    open[key] = spans.size();
    spans.push_back(render::MarkSpan{key, row, row});
}

}  // namespace

void AttentionMatrix::mark_columns(const LayerCacheView& view, int32_t row) {
    for (std::size_t i = 0; i < view.held_positions.size(); ++i) {
        const int32_t p = view.held_positions[i];
        if (view.held_roles[i] == SlotRole::Sink) {
            insert_sorted(sink_columns_, p);
            extend_span(sink_spans_, open_sink_span_, p, row);
        }
        if (view.held_roles[i] == SlotRole::Global) {
            insert_sorted(global_columns_, p);
            extend_span(global_spans_, open_global_span_, p, row);
        }
    }
}

// The new row (index rows() - 1, already stored) joins its block row at every
// level: pooled by 2 for block 2, that pooled by 2 for block 4, ... (2x the
// row's length in all).
void AttentionMatrix::add_to_pyramid(const std::vector<float>& row) {
    const auto r = static_cast<std::size_t>(rows() - 1);
    std::vector<float> pooled = row;
    std::size_t level = 0;
    for (int32_t block = 2; block <= kMaxBlock; block *= 2, ++level) {
        pooled = pool_pairs(pooled);
        if (pyramid_.size() <= level) pyramid_.push_back(PyramidLevel{block, {}});
        auto& block_rows = pyramid_[level].rows;
        const std::size_t R = r / static_cast<std::size_t>(block);
        if (block_rows.size() <= R) block_rows.resize(R + 1);
        std::vector<float>& target = block_rows[R];
        if (target.size() < pooled.size()) target.resize(pooled.size(), kCellFuture);
        for (std::size_t k = 0; k < pooled.size(); ++k) target[k] = std::max(target[k], pooled[k]);
    }
}

render::HeatmapData AttentionMatrix::to_heatmap_data(int32_t visible_rows,
                                                     const std::function<std::string(int32_t)>& token_text,
                                                     const std::string& title) const {
    if (visible_rows < 0 || visible_rows > rows())
        throw std::invalid_argument("attention matrix: " + std::to_string(visible_rows) + " visible rows of " +
                                    std::to_string(rows()));
    render::HeatmapData d;
    d.title = title;
    const int32_t n_keys = visible_rows == 0 ? 0 : query_positions_[static_cast<std::size_t>(visible_rows) - 1] + 1;
    d.query_positions.assign(query_positions_.begin(), query_positions_.begin() + visible_rows);
    d.key_positions.resize(static_cast<std::size_t>(n_keys));
    for (int32_t k = 0; k < n_keys; ++k) d.key_positions[static_cast<std::size_t>(k)] = k;
    d.values.assign(static_cast<std::size_t>(visible_rows) * static_cast<std::size_t>(n_keys),
                    std::numeric_limits<float>::quiet_NaN());
    for (int32_t r = 0; r < visible_rows; ++r) {
        const float* cells = row_cells(r);
        float* out = d.values.data() + static_cast<std::size_t>(r) * static_cast<std::size_t>(n_keys);
        for (int32_t k = 0; k < row_length(r); ++k)
            if (cells[k] != kCellNotHeld) out[k] = cells[k];
        if (window_starts_[static_cast<std::size_t>(r)] >= 0)
            d.window_edges.emplace_back(query_positions_[static_cast<std::size_t>(r)],
                                        window_starts_[static_cast<std::size_t>(r)]);
    }
    // The marks of the visible rows (spans cut at the last visible row).
    for (const auto& [spans, out] : {std::pair{&sink_spans_, &d.sink_marks}, std::pair{&global_spans_, &d.global_marks}}) {
        for (render::MarkSpan m : *spans) {
            if (m.key >= n_keys || m.first_row >= visible_rows) continue;
            m.last_row = std::min(m.last_row, visible_rows - 1);
            out->push_back(m);
        }
    }
    if (token_text) {
        for (int32_t q : d.query_positions) d.query_labels.push_back(token_text(q));
        for (int32_t k : d.key_positions) d.key_labels.push_back(token_text(k));
    }
    return d;
}

}  // namespace kvscope::gui
