#include "cacheviews/thumbnail_pooler.h"

#include <QMetaObject>

#include <algorithm>

#include "core/recent_rows.h"

namespace kvscope::gui {

ThumbnailPooler::ThumbnailPooler(QObject* parent) : QObject(parent), context_(new QObject) {
    qRegisterMetaType<std::shared_ptr<const PooledThumbnails>>();
    thread_.setObjectName("kvscope-thumbnails");
    context_->moveToThread(&thread_);
    connect(&thread_, &QThread::finished, context_, &QObject::deleteLater);
    thread_.start();
}

ThumbnailPooler::~ThumbnailPooler() {
    thread_.quit();
    thread_.wait();
}

void ThumbnailPooler::request(ThumbnailRequest request) {
    if (busy_) {
        waiting_ = std::move(request);
        return;
    }
    start(std::move(request));
}

void ThumbnailPooler::start(ThumbnailRequest request) {
    busy_ = true;
    QMetaObject::invokeMethod(
        context_,
        [this, request = std::move(request)] {
            std::shared_ptr<PooledThumbnails> result;
            try {
                result = std::make_shared<PooledThumbnails>();
                result->generation = request.generation;
                result->entry = request.entry;
                const std::vector<QueryAttention> rows = collectRows(request);
                result->error = poolAttention(rows, request.n_layer, request.n_head, request.columns, result->pooled);
                for (const QueryAttention& q : rows) result->row_positions.push_back(q.position);
            } catch (const std::exception& e) {  // a damaged trace entry, or memory: reported, never thrown out of the slot
                if (!result) result = std::make_shared<PooledThumbnails>();
                result->generation = request.generation;
                result->entry = request.entry;
                result->pooled = PooledAttention{};
                result->error = QString::fromStdString(e.what());
            }
            // Back on the GUI thread: deliver, then take the request that waited.
            QMetaObject::invokeMethod(
                this,
                [this, result] {
                    busy_ = false;
                    emit pooled(result);
                    if (waiting_) {
                        ThumbnailRequest next = std::move(*waiting_);
                        waiting_.reset();
                        start(std::move(next));
                    }
                },
                Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
}

std::vector<QueryAttention> ThumbnailPooler::collectRows(const ThumbnailRequest& r) {
    return recent_rows(r.live, r.trace, r.entry, static_cast<size_t>(std::max(r.rows, 0)));
}

}  // namespace kvscope::gui
