#pragma once
// The GUI thread's record of a run (live or opened from a file): the trace's
// header, a light copy of every entry (no attention, no cache views: those are
// read back from the trace on demand), the text of every position, the latest
// full snapshot, and the attention matrix of the selected layer/heads kept up
// to date row by row.
//
// Timeline entries: 0 = after the prompt (the prefill), k = after step k-1.
#include <QObject>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/attention_matrix.h"
#include "core/run_settings.h"
#include "core/shared_trace.h"

namespace kvscope::gui {

class SessionHistory : public QObject {
    Q_OBJECT
public:
    explicit SessionHistory(QObject* parent = nullptr);

    // A new live run: the trace holds its header (and soon the prefill).
    void begin(SharedTracePtr trace);
    // A finished trace (opened from a file): every entry is read at once.
    // Throws kvscope::Error (and changes nothing) when the trace cannot be shown:
    // no prefill entry, or entries whose positions do not follow the prompt.
    void open(SharedTracePtr trace);
    // Forgets the run and tells the views (reset()).
    void clear();
    void addPrefill(const KvSnapshotPtr& snapshot);
    void addStep(const KvSnapshotPtr& snapshot);

    bool empty() const { return !trace_; }
    const SharedTracePtr& trace() const { return trace_; }
    const TraceHeader& header() const { return header_; }
    int32_t entries() const { return static_cast<int32_t>(light_.size()); }  // timeline length
    int32_t steps() const { return entries() > 0 ? entries() - 1 : 0; }
    // Entry e without cache views and attention ([entries()]).
    const StepSnapshot& light(int32_t entry) const { return light_.at(static_cast<size_t>(entry)); }
    std::vector<StepSnapshot> lightSteps() const;  // the steps' light copies (entries 1..), for the plots
    // Cache views of every layer at entry e ([n_layer]); decoded from the trace
    // (views only) unless e is the latest live entry.
    std::vector<LayerCacheView> cacheViews(int32_t entry) const;
    // Up to `count` most recent query rows fed at or before entry e, oldest
    // first, every layer. Rows whose attention the trace's budget dropped come
    // back with no keys (drawn blank).
    std::vector<QueryAttention> recentAttention(int32_t entry, int32_t count) const;
    // The newest live snapshots, oldest first, holding at least the last
    // kRecentRows query rows between them (shared, not copied); empty for an opened file.
    const std::vector<KvSnapshotPtr>& recentSnapshots() const { return recent_snapshots_; }
    bool live() const { return latest_ != nullptr; }
    static constexpr size_t kRecentRows = 64;
    // Token text of a text position ("" beyond the text).
    std::string tokenText(int32_t position) const;
    int32_t textLength() const { return static_cast<int32_t>(texts_.size()); }
    const std::vector<int32_t>& tokens() const { return tokens_; }   // prompt + generated ids, by position
    std::vector<int32_t> generatedTokens() const;

    // The attention matrix of (layer, heads), rebuilt from the trace when the
    // selection changes (on the GUI thread: O(rows x keys), ~0.1 s at 2,000
    // tokens) and extended row by row as steps arrive.
    const AttentionMatrix& matrix(int32_t layer, const HeadSelection& heads);
    // Query rows fed up to and including entry e (the heatmap's visible rows).
    int32_t rowsAt(int32_t entry) const;

signals:
    void reset();                  // a new run, a file, or nothing: everything changed
    void entryAdded(int32_t entry);

private:
    void forget();
    void record(const KvSnapshotPtr& snapshot, bool prefill);
    void appendRow(int32_t position, const LayerAttention& row, const LayerCacheView* view);
    void rebuildMatrix();

    SharedTracePtr trace_;
    TraceHeader header_;
    std::vector<StepSnapshot> light_;        // [entries]
    std::vector<int32_t> rows_after_;        // [entries] attention rows fed up to each entry
    std::vector<std::string> texts_;         // [text length] token text by position
    std::vector<int32_t> tokens_;            // [text length] token id by position
    KvSnapshotPtr latest_;                   // the newest live snapshot (full)
    std::vector<KvSnapshotPtr> recent_snapshots_;  // see recentSnapshots()
    int32_t matrix_layer_ = -1;
    HeadSelection matrix_heads_;
    AttentionMatrix matrix_;
};

}  // namespace kvscope::gui
