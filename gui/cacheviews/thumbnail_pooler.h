#pragma once
// Pools the layer x head thumbnails off the GUI thread. Pooling reads every
// layer and head of the last ~32 query rows (at 2,000 keys: 30 x 9 x 32 x
// 2,000 = 17 M values, ~80 ms), which would stall the GUI; here it runs on a
// thread of its own and the result comes back as a signal.
//
// The rows come from the newest live snapshots (shared, immutable: nothing is
// copied on the GUI thread) or, for an earlier timeline entry, are decoded
// from the trace (one entry at a time under its lock).
//
// Requests are coalesced: while one is being pooled, a newer one replaces any
// waiting one, so a fast run or a fast scrub never queues up work.
#include <QObject>
#include <QString>
#include <QThread>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "cacheviews/attention_thumbnails.h"
#include "core/run_settings.h"
#include "core/shared_trace.h"

namespace kvscope::gui {

struct ThumbnailRequest {
    uint64_t generation = 0;          // the requester's run counter, handed back with the result
    std::vector<KvSnapshotPtr> live;  // newest live snapshots, oldest first; empty: read the trace
    SharedTracePtr trace;             // for an earlier entry
    int32_t entry = 0;                // timeline entry (0 = the prefill)
    int32_t rows = 32;                // query rows wanted
    int32_t n_layer = 0, n_head = 0;
    int32_t columns = 32;             // key bins
};

struct PooledThumbnails {
    uint64_t generation = 0;  // of the request
    int32_t entry = 0;        // of the request
    PooledAttention pooled;
    std::vector<int32_t> row_positions;  // [pooled.n_rows]
    QString error;                        // non-empty: pooling refused the rows
};

class ThumbnailPooler : public QObject {
    Q_OBJECT
public:
    explicit ThumbnailPooler(QObject* parent = nullptr);
    ~ThumbnailPooler() override;  // waits for the pooling in progress

    // GUI thread: pool `request` when the thread is free (replacing a waiting request).
    void request(ThumbnailRequest request);
    bool busy() const { return busy_; }

    // The rows the request names (newest `rows` query rows at or before `entry`),
    // oldest first; rows whose attention the trace's budget dropped come back
    // with no keys. Runs on any thread.
    static std::vector<QueryAttention> collectRows(const ThumbnailRequest& request);

signals:
    void pooled(std::shared_ptr<const kvscope::gui::PooledThumbnails> result);

private:
    void start(ThumbnailRequest request);

    QThread thread_;
    QObject* context_;  // lives on thread_: the pooling runs in its event loop
    bool busy_ = false;
    std::optional<ThumbnailRequest> waiting_;
};

}  // namespace kvscope::gui

Q_DECLARE_METATYPE(std::shared_ptr<const kvscope::gui::PooledThumbnails>)
