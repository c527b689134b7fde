#include "core/session_history.h"

#include <QMetaObject>

#include <algorithm>
#include <functional>
#include <utility>

#include "core/recent_rows.h"
#include "util/error.h"

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

// One matrix row; a row the matrix refuses (it checks sizes and values) is
// kept as a blank row, so the matrix stays row for row with the timeline.
void append_row(AttentionMatrix& m, const HeadSelection& heads, const std::vector<std::vector<int32_t>>& groups,
                int32_t position, const LayerAttention& row, const LayerCacheView* view) {
    try {
        m.append(position, row, heads, groups, view);
    } catch (const std::exception& e) {
        qWarning("heatmap: row of position %d left blank: %s", position, e.what());
        m.append(position, LayerAttention{}, heads, groups, nullptr);
    }
}

// The rows of timeline entries [from, to) in `layer`, read back from the trace
// and appended to `m`. Each entry is read under the trace's lock (held for one
// entry's layer only, so the decoder and the GUI thread wait little). Returns
// false, `m` part-built, as soon as `stop` says so. Runs on any thread; throws
// kvscope::Error for an entry the trace cannot decode.
bool append_from_trace(const SharedTrace& trace, int32_t layer, const HeadSelection& heads,
                       const std::vector<std::vector<int32_t>>& groups, int32_t from, int32_t to, AttentionMatrix& m,
                       const std::function<bool()>& stop = {}) {
    for (int32_t entry = from; entry < to; ++entry) {
        if (stop && stop()) return false;
        Trace::LayerSlice slice;
        {
            std::lock_guard<std::mutex> lock(trace.mutex);
            slice = trace.trace.layer_slice(entry - 1, layer);
        }
        for (auto& [position, attention] : slice.queries) {
            if (attention.probs.empty()) attention.key_positions.clear();  // dropped for the budget: a blank row
            if (entry == 0) {
                const LayerCacheView row_view = prefill_row_view(slice.view, attention);
                append_row(m, heads, groups, position, attention, &row_view);
            } else {
                append_row(m, heads, groups, position, attention, &slice.view);
            }
        }
    }
    return true;
}

}  // namespace

SessionHistory::SessionHistory(QObject* parent) : QObject(parent), matrix_context_(new QObject) {
    matrix_thread_.setObjectName("kvscope-heatmap-matrix");
    matrix_context_->moveToThread(&matrix_thread_);
    connect(&matrix_thread_, &QThread::finished, matrix_context_, &QObject::deleteLater);
    matrix_thread_.start();
}

SessionHistory::~SessionHistory() {
    cancelMatrixBuild();
    matrix_thread_.quit();
    matrix_thread_.wait();
}

void SessionHistory::forget() {
    trace_.reset();
    header_ = TraceHeader{};
    light_.clear();
    rows_after_.clear();
    texts_.clear();
    tokens_.clear();
    latest_.reset();
    recent_snapshots_.clear();
    cancelMatrixBuild();
    matrix_layer_ = -1;
    discardOnWorker(std::exchange(matrix_, AttentionMatrix{}));
}

void SessionHistory::clear() {
    forget();
    emit reset();
}

void SessionHistory::begin(SharedTracePtr trace) {
    forget();
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
    // Built aside and swapped in at the end, so a refused file leaves the shown run as it was.
    TraceHeader header;
    std::vector<StepSnapshot> light;
    std::vector<int32_t> rows_after;
    std::vector<std::string> texts;
    std::vector<int32_t> tokens;
    {
        std::lock_guard<std::mutex> lock(trace->mutex);
        const Trace& t = trace->trace;
        header = t.header();
        if (!t.has_prefill())
            throw Error("the session has no prompt entry (prefill); KVScope and kvscope-cli always write one");
        texts = header.prompt_texts;
        tokens = header.prompt_tokens;
        for (int64_t e = -1; e < static_cast<int64_t>(t.size()); ++e) {
            StepSnapshot meta = t.meta(e);
            rows_after.push_back((rows_after.empty() ? 0 : rows_after.back()) + static_cast<int32_t>(t.query_count(e)));
            if (e >= 0) {
                if (meta.position > static_cast<int32_t>(texts.size()))
                    throw Error("step " + std::to_string(e) + " is at position " + std::to_string(meta.position) +
                                " but the text before it has " + std::to_string(texts.size()) + " tokens");
                if (meta.position == static_cast<int32_t>(texts.size())) {
                    texts.push_back(meta.text);
                    tokens.push_back(meta.token);
                }
            }
            light.push_back(std::move(meta));
        }
    }
    forget();
    trace_ = std::move(trace);
    header_ = std::move(header);
    light_ = std::move(light);
    rows_after_ = std::move(rows_after);
    texts_ = std::move(texts);
    tokens_ = std::move(tokens);
    emit reset();
}

void SessionHistory::addPrefill(const KvSnapshotPtr& snapshot) { record(snapshot, true); }

void SessionHistory::addStep(const KvSnapshotPtr& snapshot) {
    if (snapshot->position == static_cast<int32_t>(texts_.size())) {
        texts_.push_back(snapshot->text);
        tokens_.push_back(snapshot->token);
    }
    record(snapshot, false);
}

void SessionHistory::record(const KvSnapshotPtr& snapshot, bool prefill) {
    latest_ = snapshot;
    // Keep the newest snapshots that hold the last kRecentRows rows (shared pointers, nothing copied).
    const std::vector<QueryAttention>& rows = snapshot->attention;
    recent_snapshots_.push_back(snapshot);
    size_t held_rows = 0;
    size_t keep_from = recent_snapshots_.size();
    while (keep_from > 0 && held_rows < kRecentRows) held_rows += recent_snapshots_[--keep_from]->attention.size();
    recent_snapshots_.erase(recent_snapshots_.begin(), recent_snapshots_.begin() + static_cast<std::ptrdiff_t>(keep_from));
    light_.push_back(light_copy(*snapshot));
    rows_after_.push_back((rows_after_.empty() ? 0 : rows_after_.back()) + static_cast<int32_t>(rows.size()));
    if (matrix_layer_ >= 0) {
        const auto l = static_cast<size_t>(matrix_layer_);
        const LayerCacheView* view = l < snapshot->layers.size() ? &snapshot->layers[l] : nullptr;
        for (const QueryAttention& q : rows) {
            const LayerAttention& row = q.layers.at(l);
            if (prefill && view) {
                const LayerCacheView row_view = prefill_row_view(*view, row);
                appendRow(q.position, row, &row_view);
            } else {
                appendRow(q.position, row, view);
            }
        }
    }
    emit entryAdded(entries() - 1);
}

void SessionHistory::appendRow(int32_t position, const LayerAttention& row, const LayerCacheView* view) {
    append_row(matrix_, matrix_heads_, light_.front().gqa_groups, position, row, view);
}

std::vector<StepSnapshot> SessionHistory::lightSteps() const {
    if (light_.size() <= 1) return {};
    return {light_.begin() + 1, light_.end()};
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
    return trace_->trace.views(entry - 1);  // entry 0 is the prefill (-1 in the trace)
}

std::vector<QueryAttention> SessionHistory::recentAttention(int32_t entry, int32_t count) const {
    if (!trace_ || entry < 0 || entry >= entries() || count <= 0) return {};
    const auto wanted = static_cast<size_t>(std::min(count, rowsAt(entry)));
    const bool live_rows = latest_ && entry == entries() - 1 && wanted <= kRecentRows;
    return recent_rows(live_rows ? recent_snapshots_ : std::vector<KvSnapshotPtr>{}, trace_, entry, wanted);
}

int32_t SessionHistory::rowsAt(int32_t entry) const {
    if (rows_after_.empty() || entry < 0) return 0;
    return rows_after_[static_cast<size_t>(std::min<int32_t>(entry, entries() - 1))];
}

const AttentionMatrix& SessionHistory::matrix(int32_t layer, const HeadSelection& heads) {
    cancelMatrixBuild();
    if (layer != matrix_layer_ || !(heads == matrix_heads_)) {
        matrix_layer_ = layer;
        matrix_heads_ = heads;
        matrix_.clear();
        if (trace_ && layer >= 0 && layer < header_.n_layer && !light_.empty())
            append_from_trace(*trace_, layer, heads, light_.front().gqa_groups, 0, entries(), matrix_);
    }
    return matrix_;
}

bool SessionHistory::requestMatrix(int32_t layer, const HeadSelection& heads) {
    if (pending_ && pending_->layer == layer && pending_->heads == heads) return false;  // on its way
    if (layer == matrix_layer_ && heads == matrix_heads_) {
        cancelMatrixBuild();  // back to the one shown (a quick switch away and back)
        return true;
    }
    if (rowsAt(entries() - 1) < kSyncMatrixRows || !trace_ || layer < 0 || layer >= header_.n_layer) {
        matrix(layer, heads);
        return true;
    }
    cancelMatrixBuild();
    pending_ = PendingMatrix{layer, heads};
    const uint64_t job = ++matrix_job_;
    wanted_job_.store(job);
    // The worker gets copies of what it reads (the trace is shared and locked per
    // entry); of this object it reads only wanted_job_. It builds the entries
    // known now; installMatrix appends the ones that arrive meanwhile.
    QMetaObject::invokeMethod(
        matrix_context_,
        [this, job, trace = trace_, layer, heads, groups = light_.front().gqa_groups, built_entries = entries()] {
            auto built = std::make_shared<AttentionMatrix>();
            QString error;
            try {
                const auto superseded = [this, job] { return wanted_job_.load() != job; };
                if (!append_from_trace(*trace, layer, heads, groups, 0, built_entries, *built, superseded)) return;
            } catch (const std::exception& e) {  // a damaged entry of an opened file, or memory
                built->clear();
                error = QString::fromStdString(e.what());
            }
            QMetaObject::invokeMethod(
                this, [this, job, built, built_entries, error] { installMatrix(job, built, built_entries, error); },
                Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
    return false;
}

void SessionHistory::cancelMatrixBuild() {
    if (!pending_) return;
    pending_.reset();
    wanted_job_.store(++matrix_job_);  // the worker stops at its next entry; its result would be dropped
}

void SessionHistory::installMatrix(uint64_t job, const std::shared_ptr<AttentionMatrix>& built, int32_t built_entries,
                                   const QString& error) {
    if (job != matrix_job_ || !pending_) {  // superseded, or the run was forgotten meanwhile
        discardOnWorker(AttentionMatrix(std::move(*built)));
        return;
    }
    matrix_layer_ = pending_->layer;
    matrix_heads_ = pending_->heads;
    pending_.reset();
    discardOnWorker(std::exchange(matrix_, std::move(*built)));
    QString message = error;
    if (message.isEmpty()) {
        try {  // the entries recorded while it was built (a few steps' rows: cheap here)
            append_from_trace(*trace_, matrix_layer_, matrix_heads_, light_.front().gqa_groups, built_entries,
                              entries(), matrix_);
        } catch (const std::exception& e) {
            matrix_.clear();
            message = QString::fromStdString(e.what());
        }
    }
    emit matrixReady(message);
}

// Freeing a big matrix costs the GUI thread ~15 ms at 8,000 rows (its pages go
// back to the system): the worker thread does it.
void SessionHistory::discardOnWorker(AttentionMatrix matrix) {
    if (matrix.rows() < kSyncMatrixRows) return;  // small: freed here, now
    auto doomed = std::make_shared<AttentionMatrix>(std::move(matrix));
    QMetaObject::invokeMethod(matrix_context_, [doomed]() mutable { doomed.reset(); }, Qt::QueuedConnection);
}

}  // namespace kvscope::gui
