// MainWindow: keeping the views in step with the history and the timeline.
#include <QComboBox>
#include <QLabel>
#include <QSignalBlocker>
#include <QSlider>
#include <QStatusBar>

#include <cmath>
#include <set>

#include "app/main_window.h"
#include "cacheviews/head_grid_view.h"
#include "cacheviews/thumbnail_pooler.h"
#include "cacheviews/kv_strip_view.h"
#include "cacheviews/token_text_view.h"
#include "controls/policy_dock.h"
#include "heatmap/heatmap_view.h"
#include "plots/plots_panel.h"

namespace kvscope::gui {

namespace {
constexpr int32_t kThumbnailRows = 32;  // recent query rows in the layer x head thumbnails
}

void MainWindow::onHistoryReset() {
    const SessionHistory& h = controller_.history();
    budget_reported_ = false;
    ++thumbnails_generation_;  // results pooled for the previous run are dropped
    thumbnails_pending_ = false;
    plots_->setSteps(h.lightSteps());
    if (!h.empty()) policy_->setLimits(h.header().n_ctx, h.header().n_layer, h.textLength());
    status_backend_->setText(h.empty() ? QString() : QString::fromStdString(h.header().backend));
    plots_->setDeviceName(h.empty() ? QString() : QString::fromStdString(h.header().backend));
    heatmap_->clear();
    strip_->clear();
    head_grid_->clear();
    token_text_->clear();
    fillLayerAndHeadChoices();
    matrix_dirty_ = true;
    follow_latest_ = true;
    shown_entry_ = -1;
    views_dirty_ = dirty_ = true;
    updateActions();
    renderFrame();
}

void MainWindow::onEntryAdded(int32_t entry) {
    const SessionHistory& h = controller_.history();
    if (entry > 0) plots_->appendStep(h.light(entry));
    // What can be pinned: the text so far (the newest token included).
    policy_->setLimits(h.header().n_ctx, h.header().n_layer, h.textLength());
    if (!budget_reported_) {
        std::string message;
        {
            std::lock_guard<std::mutex> lock(h.trace()->mutex);
            message = h.trace()->trace.budget_message();
        }
        if (!message.empty()) {  // old steps' attention is being dropped: say so once per run
            budget_reported_ = true;
            statusBar()->showMessage(QString::fromStdString(message), 15000);
        }
    }
    dirty_ = true;  // drawn at the next frame, not per token
}

void MainWindow::renderFrame() {
    if (thumbnails_pending_) requestThumbnails();  // one put off while a run was going on
    if (!dirty_) return;
    dirty_ = false;
    ++frames_drawn_;
    const qint64 start = frame_clock_.nsecsElapsed();
    drawFrame();
    if (frame_times_ms_.size() >= 4096) frame_times_ms_.erase(frame_times_ms_.begin(), frame_times_ms_.begin() + 1024);
    frame_times_ms_.push_back(static_cast<double>(frame_clock_.nsecsElapsed() - start) / 1e6);
}

void MainWindow::drawFrame() {
    const SessionHistory& h = controller_.history();
    {
        QSignalBlocker block(timeline_);
        timeline_->setRange(0, std::max(0, h.entries() - 1));
        if (follow_latest_) timeline_->setValue(timeline_->maximum());
    }
    const int32_t entry = follow_latest_ ? h.entries() - 1 : std::min(requested_entry_, h.entries() - 1);
    // Scrubbed back while decoding: the shown entry has not changed, only the timeline's length.
    if (entry == shown_entry_ && !views_dirty_) {
        refreshStatus();
        updateActions();
        return;
    }
    showEntry(entry);
    updateActions();
}

void MainWindow::showEntry(int32_t entry) {
    SessionHistory& h = controller_.history();
    if (h.empty() || entry < 0 || entry >= h.entries()) {
        refreshStatus();
        return;
    }
    views_dirty_ = false;
    shown_entry_ = entry;
    {
        QSignalBlocker block(timeline_);
        if (timeline_->value() != entry) timeline_->setValue(entry);
    }
    try {
        const StepSnapshot& light = h.light(entry);
        timeline_label_->setText(entry == 0 ? tr("after the prompt (%1 tokens)").arg(h.header().prompt_tokens.size())
                                            : tr("step %1 of %2 · \"%3\"")
                                                  .arg(entry - 1)
                                                  .arg(h.steps())
                                                  .arg(QString::fromStdString(light.text).left(24)));
        refreshHeatmap(false);
        const std::vector<LayerCacheView> views = h.cacheViews(entry);
        strip_->setCacheViews(views, [&h](int32_t p) { return h.tokenText(p); });
        requestThumbnails();
        plots_->setCursorStep(entry - 1);
        refreshTokenText(views);
    } catch (const std::exception& e) {  // a damaged entry of an opened file: say so, keep the window alive
        showError(tr("Cannot show this step"), QString::fromStdString(e.what()));
    }
    refreshStatus();
}

// The thumbnails read the last rows of every layer and head: pooled off the GUI
// thread and drawn when ready. While a run goes on they are asked for at most
// four times a second (so the pooling does not take a core from the decoder);
// a request put off is sent by a later frame, so the grid always ends on the
// shown entry.
void MainWindow::requestThumbnails() {
    const SessionHistory& h = controller_.history();
    if (h.empty() || shown_entry_ < 0 || shown_entry_ >= h.entries()) {
        thumbnails_pending_ = false;
        return;
    }
    const qint64 now = frame_clock_.nsecsElapsed();
    if (controller_.busy() && now - thumbnails_asked_ns_ < 250'000'000) {
        thumbnails_pending_ = true;
        return;
    }
    thumbnails_pending_ = false;
    thumbnails_asked_ns_ = now;
    ThumbnailRequest request;
    request.generation = thumbnails_generation_;
    if (shown_entry_ == h.entries() - 1 && h.live()) request.live = h.recentSnapshots();
    request.trace = h.trace();
    request.entry = shown_entry_;
    request.rows = kThumbnailRows;
    request.n_layer = h.header().n_layer;
    request.n_head = h.header().n_head;
    request.columns = HeadGridView::kThumbnailColumns;
    thumbnails_.request(std::move(request));
}

// Layer or heads changed: the history hands back the matrix at once when it is
// small, else builds it on its own thread; meanwhile the heatmap keeps showing
// the previous selection (titled so), and showMatrix() follows matrixReady().
void MainWindow::refreshHeatmap(bool rebuild) {
    SessionHistory& h = controller_.history();
    if (h.empty()) return;
    if (matrix_dirty_ || rebuild) {
        matrix_dirty_ = false;
        const HeadSelection heads = headSelection();
        if (h.requestMatrix(selectedLayer(), heads)) {
            showMatrix();
            return;
        }
        const QString wanted = tr("layer %1 · %2").arg(selectedLayer()).arg(describe(heads));
        heatmap_->setTitle(h.matrixLayer() < 0 ? tr("building %1…").arg(wanted)
                                               : tr("layer %1 · %2 (building %3…)")
                                                     .arg(h.matrixLayer())
                                                     .arg(describe(h.matrixHeads()))
                                                     .arg(wanted));
    }
    heatmap_->refresh(h.rowsAt(shown_entry_));  // no-op while nothing is shown
}

// The history's matrix into the heatmap, titled with what it is.
void MainWindow::showMatrix() {
    SessionHistory& h = controller_.history();
    if (h.empty() || shown_entry_ < 0) return;
    const int32_t rows = h.rowsAt(shown_entry_);
    if (h.matrix().rows() < rows) {  // the trace could not be read back (said by matrixReady)
        heatmap_->clear();
        heatmap_->setTitle(QString());
        return;
    }
    heatmap_->setTitle(tr("layer %1 · %2").arg(h.matrixLayer()).arg(describe(h.matrixHeads())));
    heatmap_->setMatrix(&h.matrix(), rows, [&h](int32_t p) { return h.tokenText(p); });
}

void MainWindow::refreshTokenText(const std::vector<LayerCacheView>& views) {
    const SessionHistory& h = controller_.history();
    const int32_t entry = shown_entry_;
    const auto layer = static_cast<size_t>(selectedLayer());
    std::set<int32_t> held;
    std::vector<std::pair<int32_t, SlotRole>> roles;
    if (layer < views.size()) {
        held.insert(views[layer].held_positions.begin(), views[layer].held_positions.end());
        for (size_t i = 0; i < views[layer].held_positions.size(); ++i)
            roles.emplace_back(views[layer].held_positions[i], views[layer].held_roles[i]);
    }
    const PolicyConfig policy = policy_->policy();
    const auto n_prompt = static_cast<int32_t>(h.header().prompt_tokens.size());
    // Tokens known at this entry: the prompt and the tokens generated up to it.
    const int32_t last = entry == 0 ? n_prompt - 1 : h.light(entry).position;
    std::vector<TokenCell> cells;
    cells.reserve(static_cast<size_t>(last + 1));
    size_t r = 0;
    for (int32_t p = 0; p <= last && p < h.textLength(); ++p) {
        TokenCell c;
        c.position = p;
        c.text = h.tokenText(p);
        c.prompt = p < n_prompt;
        // The newest token is not in the cache yet (it is fed at the next step): count it as held.
        c.held = held.empty() || held.count(p) > 0 || p == last;
        while (r < roles.size() && roles[r].first < p) ++r;
        if (r < roles.size() && roles[r].first == p) c.role = roles[r].second;
        c.pinned = policy.pins.count(p) > 0;
        if (p >= n_prompt) {
            // The step that generated position p is entry p - n_prompt + 1.
            const int32_t e = p - n_prompt + 1;
            if (e < h.entries() && h.light(e).reference) {
                c.divergence = h.light(e).reference->kl_full_policy;
                c.top1_agrees = h.light(e).reference->top1_agrees;
            }
        }
        cells.push_back(std::move(c));
    }
    token_text_->setTokens(cells);
}

void MainWindow::refreshStatus() {
    const SessionHistory& h = controller_.history();
    if (h.empty() || h.entries() == 0) {
        status_step_->clear();
        status_cache_->clear();
        status_rate_->clear();
        return;
    }
    const StepSnapshot& s = h.light(std::max(0, shown_entry_));
    const double rate = controller_.tokensPerSecond();
    status_rate_->setText(!controller_.busy() ? QString() : rate < 0 ? tr("… tok/s") : tr("%1 tok/s").arg(rate, 0, 'f', 1));
    status_step_->setText(shown_entry_ <= 0 ? tr("prompt") : tr("step %1/%2").arg(shown_entry_ - 1).arg(h.steps()));
    const double full = static_cast<double>(s.memory.kv_full_bytes);
    const double held = static_cast<double>(s.memory.kv_bytes);
    status_cache_->setText(full > 0 ? tr("cache %1 %").arg(100.0 * held / full, 0, 'f', 0) : QString());
    status_cache_->setToolTip(QString::fromStdString(s.policy));
}

}  // namespace kvscope::gui
