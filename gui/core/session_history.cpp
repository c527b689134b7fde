#include "core/session_history.h"

#include <algorithm>

namespace kvscope::gui {

namespace {

// The snapshot without its two big parts.
StepSnapshot light_copy(const StepSnapshot& s) {
    StepSnapshot l;
    l.step = s.step;
    l.position = s.position;
    l.token = s.token;
    l.text = s.text;
    l.top = s.top;
    l.end_of_generation = s.end_of_generation;
    l.chosen_logprob = s.chosen_logprob;
    l.gqa_groups = s.gqa_groups;
    l.memory = s.memory;
    l.timings = s.timings;
    l.reference = s.reference;
    l.policy = s.policy;
    return l;
}

// The prefill reports one cache view, the one after the whole prompt; each
// prompt row saw an earlier state of the cache. The row's own keys tell what
// it saw: roles come from the final view where it pins a position (sinks,
// globals, heavy hitters), and the trailing run of consecutive keys ending at
// the query is its window. So a prompt row's window edge is where its own
// window began, not where the prompt's last window begins.
LayerCacheView prefill_row_view(const LayerCacheView& final_view, const LayerAttention& row) {
    LayerCacheView v;
    v.held_positions = row.key_positions;
    v.held_roles.assign(row.key_positions.size(), SlotRole::Window);
    size_t run_start = row.key_positions.size();
    while (run_start > 0 && (run_start == row.key_positions.size() ||
                             row.key_positions[run_start - 1] + 1 == row.key_positions[run_start]))
        --run_start;
    size_t f = 0;
    for (size_t i = 0; i < row.key_positions.size(); ++i) {
        const int32_t p = row.key_positions[i];
        while (f < final_view.held_positions.size() && final_view.held_positions[f] < p) ++f;
        const bool in_final = f < final_view.held_positions.size() && final_view.held_positions[f] == p;
        if (in_final && final_view.held_roles[f] != SlotRole::Window)
            v.held_roles[i] = final_view.held_roles[f];
        else if (i < run_start)
            v.held_roles[i] = SlotRole::HeavyHitter;  // held outside the window and not pinned at the end: kept by score
    }
    return v;
}

}  // namespace

SessionHistory::SessionHistory(QObject* parent) : QObject(parent) {}

void SessionHistory::clear() {
    trace_.reset();
    header_ = TraceHeader{};
    light_.clear();
    light_steps_.clear();
    rows_after_.clear();
    texts_.clear();
    tokens_.clear();
    latest_.reset();
    recent_rows_.clear();
    prefill_pending_ = false;
    matrix_layer_ = -1;
    matrix_.clear();
}

void SessionHistory::begin(SharedTracePtr trace) {
    clear();
    trace_ = std::move(trace);
    {
        std::lock_guard<std::mutex> lock(trace_->mutex);
        header_ = trace_->trace.header();
    }
    texts_ = header_.prompt_texts;
    tokens_ = header_.prompt_tokens;
    emit reset();
}

void SessionHistory::open(SharedTracePtr trace) {
    clear();
    trace_ = std::move(trace);
    {
        std::lock_guard<std::mutex> lock(trace_->mutex);
        const Trace& t = trace_->trace;
        header_ = t.header();
        texts_ = header_.prompt_texts;
        tokens_ = header_.prompt_tokens;
        const int64_t first = t.has_prefill() ? -1 : 0;
        for (int64_t e = first; e < static_cast<int64_t>(t.size()); ++e) {
            StepSnapshot meta = t.meta(e);
            const auto queries = static_cast<int32_t>(t.layer_slice(e, 0).queries.size());
            rows_after_.push_back((rows_after_.empty() ? 0 : rows_after_.back()) + queries);
            if (e >= 0) {
                if (meta.position == static_cast<int32_t>(texts_.size())) {
                    texts_.push_back(meta.text);
                    tokens_.push_back(meta.token);
                }
                light_steps_.push_back(meta);
            }
            light_.push_back(std::move(meta));
        }
    }  // (the views read the trace again when they hear of the reset)
    emit reset();
}

void SessionHistory::addPrefill(const KvSnapshotPtr& snapshot) {
    prefill_pending_ = true;
    record(snapshot);
}

void SessionHistory::addStep(const KvSnapshotPtr& snapshot) {
    if (snapshot->position == static_cast<int32_t>(texts_.size())) {
        texts_.push_back(snapshot->text);
        tokens_.push_back(snapshot->token);
    }
    light_steps_.push_back(light_copy(*snapshot));
    record(snapshot);
}

void SessionHistory::record(const KvSnapshotPtr& snapshot) {
    latest_ = snapshot;
    for (const QueryAttention& q : snapshot->attention) recent_rows_.push_back(q);
    if (recent_rows_.size() > kRecentRows)
        recent_rows_.erase(recent_rows_.begin(), recent_rows_.end() - static_cast<std::ptrdiff_t>(kRecentRows));
    light_.push_back(light_copy(*snapshot));
    rows_after_.push_back((rows_after_.empty() ? 0 : rows_after_.back()) +
                          static_cast<int32_t>(snapshot->attention.size()));
    if (matrix_layer_ >= 0) appendRows(*snapshot, /*prefill=*/light_.size() == 1 && prefill_pending_);
    prefill_pending_ = false;
    emit entryAdded(entries() - 1);
}

std::vector<int32_t> SessionHistory::generatedTokens() const {
    const auto n_prompt = header_.prompt_tokens.size();
    if (tokens_.size() <= n_prompt) return {};
    return {tokens_.begin() + static_cast<std::ptrdiff_t>(n_prompt), tokens_.end()};
}

std::string SessionHistory::tokenText(int32_t position) const {
    if (position < 0 || position >= static_cast<int32_t>(texts_.size())) return {};
    return texts_[static_cast<size_t>(position)];
}

std::vector<LayerCacheView> SessionHistory::cacheViews(int32_t entry) const {
    if (!trace_ || entry < 0 || entry >= entries()) return {};
    if (latest_ && entry == entries() - 1) return latest_->layers;
    std::lock_guard<std::mutex> lock(trace_->mutex);
    const Trace& t = trace_->trace;
    const int64_t index = t.has_prefill() ? entry - 1 : entry;
    return index < 0 ? t.prefill().layers : t.step(static_cast<size_t>(index)).layers;
}

std::vector<QueryAttention> SessionHistory::recentAttention(int32_t entry, int32_t count) const {
    std::vector<QueryAttention> out;  // newest first while collecting
    if (!trace_ || entry < 0 || entry >= entries()) return out;
    if (latest_ && entry == entries() - 1 && static_cast<int32_t>(recent_rows_.size()) >= std::min(count, rowsAt(entry))) {
        // Live: the rows are at hand, no decoding.
        const size_t n = std::min(recent_rows_.size(), static_cast<size_t>(std::max(count, 0)));
        return {recent_rows_.end() - static_cast<std::ptrdiff_t>(n), recent_rows_.end()};
    }
    for (int32_t e = entry; e >= 0 && static_cast<int32_t>(out.size()) < count; --e) {
        std::vector<QueryAttention> rows;
        if (latest_ && e == entries() - 1) {
            rows = latest_->attention;
        } else {
            std::lock_guard<std::mutex> lock(trace_->mutex);
            const Trace& t = trace_->trace;
            const int64_t index = t.has_prefill() ? e - 1 : e;
            rows = index < 0 ? t.prefill().attention : t.step(static_cast<size_t>(index)).attention;
        }
        for (auto it = rows.rbegin(); it != rows.rend() && static_cast<int32_t>(out.size()) < count; ++it)
            out.push_back(std::move(*it));
    }
    std::reverse(out.begin(), out.end());
    return out;
}

int32_t SessionHistory::rowsAt(int32_t entry) const {
    if (rows_after_.empty() || entry < 0) return 0;
    return rows_after_[static_cast<size_t>(std::min<int32_t>(entry, entries() - 1))];
}

const AttentionMatrix& SessionHistory::matrix(int32_t layer, const HeadSelection& heads) {
    if (layer != matrix_layer_ || !(heads == matrix_heads_)) {
        matrix_layer_ = layer;
        matrix_heads_ = heads;
        rebuildMatrix();
    }
    return matrix_;
}

void SessionHistory::appendRows(const StepSnapshot& snapshot, bool prefill) {
    const auto l = static_cast<size_t>(matrix_layer_);
    const LayerCacheView* view = l < snapshot.layers.size() ? &snapshot.layers[l] : nullptr;
    for (const QueryAttention& q : snapshot.attention) {
        const LayerAttention& row = q.layers.at(l);
        if (prefill && view) {
            const LayerCacheView row_view = prefill_row_view(*view, row);
            matrix_.append(q.position, row, matrix_heads_, light_.front().gqa_groups, &row_view);
        } else {
            matrix_.append(q.position, row, matrix_heads_, light_.front().gqa_groups, view);
        }
    }
}

void SessionHistory::rebuildMatrix() {
    matrix_.clear();
    if (!trace_ || matrix_layer_ < 0 || matrix_layer_ >= header_.n_layer || light_.empty()) return;
    const std::vector<std::vector<int32_t>>& groups = light_.front().gqa_groups;
    for (int32_t entry = 0; entry < entries(); ++entry) {
        Trace::LayerSlice slice;
        bool prefill = false;
        {
            std::lock_guard<std::mutex> lock(trace_->mutex);
            const Trace& t = trace_->trace;
            prefill = t.has_prefill() && entry == 0;
            slice = t.layer_slice(t.has_prefill() ? entry - 1 : entry, matrix_layer_);
        }
        for (auto& [position, attention] : slice.queries) {
            if (attention.probs.empty()) attention.key_positions.clear();  // dropped for the budget: a blank row
            if (prefill) {
                const LayerCacheView row_view = prefill_row_view(slice.view, attention);
                matrix_.append(position, attention, matrix_heads_, groups, &row_view);
            } else {
                matrix_.append(position, attention, matrix_heads_, groups, &slice.view);
            }
        }
    }
}

}  // namespace kvscope::gui
