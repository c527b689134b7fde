#pragma once
// The GUI thread's record of a run (live or opened from a file): the trace's
// header, a light copy of every entry (no attention, no cache views: those are
// read back from the trace on demand), the text of every position, the latest
// full snapshot, and the attention matrix of the selected layer/heads kept up
// to date row by row (rebuilt from the trace on a thread of its own when the
// selection changes and the matrix is big).
//
// Timeline entries: 0 = after the prompt (the prefill), k = after step k-1.
#include <QObject>
#include <QString>
#include <QThread>

#include <atomic>
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
    ~SessionHistory() override;  // stops a matrix build in progress and waits for its thread

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

    // The attention matrix the heatmap shows, for the selection matrixLayer()
    // / matrixHeads() (layer -1: none yet), extended row by row as steps arrive.
    const AttentionMatrix& matrix() const { return matrix_; }
    int32_t matrixLayer() const { return matrix_layer_; }
    const HeadSelection& matrixHeads() const { return matrix_heads_; }
    // Asks for the matrix of (layer, heads). Returns true when matrix() is that
    // selection's now: it already was, or the run has fewer than kSyncMatrixRows
    // query rows and it was rebuilt here at once (no flicker). A bigger matrix is
    // rebuilt from the trace on the history's own thread (O(rows x keys): ~0.2 s
    // at 1,600 rows, seconds at 8,000), while matrix() stays the previous
    // selection's, still extended as steps arrive; then it is installed, the rows
    // that arrived meanwhile are appended from the trace, and matrixReady() is
    // emitted. A newer request supersedes a pending one (whose build stops and
    // whose result is dropped).
    bool requestMatrix(int32_t layer, const HeadSelection& heads);
    bool matrixPending() const { return pending_.has_value(); }  // a build is running for a newer request
    static constexpr int32_t kSyncMatrixRows = 512;
    // The matrix of (layer, heads) rebuilt on the calling thread whatever its
    // size (tests and batch tools; the window uses requestMatrix).
    const AttentionMatrix& matrix(int32_t layer, const HeadSelection& heads);
    // Query rows fed up to and including entry e (the heatmap's visible rows).
    int32_t rowsAt(int32_t entry) const;

signals:
    void reset();                  // a new run, a file, or nothing: everything changed
    void entryAdded(int32_t entry);
    // A matrix built in the background was installed (matrix() is the latest
    // request's). `error` is non-empty when the trace could not be read: the
    // matrix is then empty.
    void matrixReady(const QString& error);

private:
    void forget();
    void record(const KvSnapshotPtr& snapshot, bool prefill);
    void appendRow(int32_t position, const LayerAttention& row, const LayerCacheView* view);
    void cancelMatrixBuild();
    void installMatrix(uint64_t job, const std::shared_ptr<AttentionMatrix>& built, int32_t built_entries,
                       const QString& error);
    void discardOnWorker(AttentionMatrix matrix);

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
    // The background build: jobs are numbered; the worker stops as soon as
    // wanted_job_ names another one, and only the newest job's result is installed.
    struct PendingMatrix {
        int32_t layer = -1;
        HeadSelection heads;
    };
    std::optional<PendingMatrix> pending_;  // the selection being built (GUI thread)
    uint64_t matrix_job_ = 0;               // the newest job (GUI thread)
    std::atomic<uint64_t> wanted_job_{0};   // the same, read by the worker
    QThread matrix_thread_;
    QObject* matrix_context_;               // lives on matrix_thread_: the builds run in its event loop
};

}  // namespace kvscope::gui
