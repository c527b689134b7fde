#pragma once
// KVScope's main window (DESIGN.md §3): toolbar, prompt and policy docks, the
// attention heatmap, KV strip, layer x head thumbnails, token text, plots and
// the timeline. It owns no engine state: the SessionController does, and the
// window redraws from the controller's history at most ~30 times a second
// (frame timer), however fast tokens arrive.
#include <QElapsedTimer>
#include <QMainWindow>
#include <QStringList>
#include <QTimer>

#include <map>
#include <string>
#include <vector>

#include "app/model_fetcher.h"
#include "cacheviews/thumbnail_pooler.h"
#include "core/session_controller.h"
#include "core/session_saver.h"

class QAction;
class QCheckBox;
class QComboBox;
class QLabel;
class QMenu;
class QProgressBar;
class QSlider;
class QSpinBox;
class QToolButton;

namespace kvscope::gui {

class HeatmapView;
class KvStripView;
class HeadGridView;
class TokenTextView;
class PlotsPanel;
class PolicyPanel;
class GenerationPanel;
class ModelInfoPanel;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Opens a model (on the worker thread; the views follow when it is loaded).
    void openModel(const QString& path);
    // On first start: the default model from the cache, or an offer to fetch it.
    void openDefaultModel();
    // Actions, also reachable from menus and shortcuts.
    void resetRun();
    void stepOnce();
    void stepMany();
    void toggleRun();
    void replay();
    // Shows every view as it was at timeline entry e (0 = after the prompt).
    void showEntry(int32_t entry);

    // Files. Each returns "" or the error (also shown in a dialog).
    // saveSession starts writing <name>.json (+ <name>.attn.bin beside it) on a
    // thread of its own, with its progress and a Cancel button in the status
    // bar, and returns "" (or why it cannot start: nothing to save, a save
    // already running); saveFinished() tells how it ended. While it runs Save
    // is off, and closing the window waits for it (Cancel then closes at once).
    QString saveSession(const QString& path);
    bool saving() const { return saver_.busy(); }
    QString openSession(const QString& path);
    QString exportHeatmap(const QString& path);  // .png/.svg/.pdf image or .csv matrix
    QString exportStrip(const QString& path);    // .png
    QString exportPlot(const QString& name, const QString& path);  // .png/.pdf

    // The size the window opens at without saved settings, on a screen whose
    // available area is `available`.
    static QSize defaultSize(const QRect& available);

    // For tests and the screenshot tool.
    SessionController& controller() { return controller_; }
    HeatmapView* heatmap() const { return heatmap_; }
    KvStripView* strip() const { return strip_; }
    HeadGridView* headGrid() const { return head_grid_; }
    TokenTextView* tokenText() const { return token_text_; }
    PlotsPanel* plots() const { return plots_; }
    PolicyPanel* policyPanel() const { return policy_; }
    GenerationPanel* generationPanel() const { return generation_; }
    ModelInfoPanel* modelInfo() const { return model_info_; }
    QSlider* timeline() const { return timeline_; }
    int32_t shownEntry() const { return shown_entry_; }
    int framesDrawn() const { return frames_drawn_; }  // frames the frame timer redrew (benchmark)
    // How long each redraw took on the GUI thread, newest last (the last 4,096; benchmark).
    const std::vector<double>& frameTimesMs() const { return frame_times_ms_; }
    int32_t selectedLayer() const;
    const QString& lastError() const { return last_error_; }
    // Errors go to a (non-blocking) dialog; tests turn the dialogs off and read lastError().
    void setErrorDialogsEnabled(bool on) { error_dialogs_ = on; }
    // CPU threads for decoding (default 0: all cores but one, which the GUI thread keeps).
    void setDecodeThreads(int n) { decode_threads_ = n; }

signals:
    // A save started by saveSession ended: error "" = written; else the
    // reason (also in a dialog), or that it was cancelled (nothing written).
    void saveFinished(const QString& error);

protected:
    void showEvent(QShowEvent* event) override;
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    // Layout (main_window.cpp).
    void buildActions();
    void buildMenus();
    void buildToolbar();
    void buildCentre();
    void buildDocks();
    void connectController();
    void updateActions();
    void updatePinHint();  // the text bar and token tooltips say what a click does under the policy in force
    // Views (main_window_views.cpp).
    void onEntryAdded(int32_t entry);
    void onHistoryReset();
    void renderFrame();        // the frame timer: redraw what changed (timed)
    void drawFrame();
    void refreshHeatmap(bool rebuild);
    void showMatrix();         // the history's matrix (built, or installed by matrixReady) into the heatmap
    void requestThumbnails();  // for the shown entry
    void refreshTokenText(const std::vector<LayerCacheView>& views);
    void refreshStatus();
    void fillLayerAndHeadChoices();
    HeadSelection headSelection() const;
    RunSettings currentSettings() const;
    BackendOptions backendOptions() const;  // the toolbar's choice, with the decoding threads
    void fillBackendChoices();
    // Files and settings (main_window_files.cpp).
    void chooseModelFile();
    void chooseSessionToOpen();
    void chooseSessionToSave();
    void onSaveFinished(const QString& error, bool cancelled);
    void chooseExport(const QString& what);
    void addRecent(const QString& path);
    void rebuildRecentMenu();
    void fetchDefaultModel();
    void restoreSettings();
    void saveSettings() const;
    // The shown step, layer, heads and colour scale, saved with a session
    // (TraceHeader::app_state) and shown again when it is opened.
    std::map<std::string, std::string> viewState() const;
    void restoreViewState(const std::map<std::string, std::string>& state);
    // The line exported figures carry: model · policy [· layer · heads] · step.
    QString figureCaption(bool with_view) const;
    void showError(const QString& title, const QString& message);
    void showShortcuts();
    void showAbout();

    SessionController controller_;
    ModelFetcher fetcher_;
    ThumbnailPooler thumbnails_;  // layer x head thumbnails, pooled on a thread of its own
    SessionSaver saver_;          // File > Save session, on a thread of its own
    bool close_when_saved_ = false;  // the window was closed during a save: close once it is written
    QString last_error_;
    QString model_status_;  // the status bar's text for the model in use ("" before one loads)
    bool error_dialogs_ = true;

    // Views.
    HeatmapView* heatmap_ = nullptr;
    KvStripView* strip_ = nullptr;
    HeadGridView* head_grid_ = nullptr;
    TokenTextView* token_text_ = nullptr;
    PlotsPanel* plots_ = nullptr;
    PolicyPanel* policy_ = nullptr;
    GenerationPanel* generation_ = nullptr;
    ModelInfoPanel* model_info_ = nullptr;
    QComboBox* layer_box_ = nullptr;
    QComboBox* head_box_ = nullptr;
    QCheckBox* log_scale_box_ = nullptr;
    QComboBox* text_coloring_box_ = nullptr;
    QSlider* timeline_ = nullptr;
    QLabel* timeline_label_ = nullptr;
    QLabel* pin_hint_ = nullptr;
    QSpinBox* step_count_ = nullptr;
    QSlider* speed_ = nullptr;
    QLabel* status_model_ = nullptr;
    QLabel* status_rate_ = nullptr;
    QLabel* status_step_ = nullptr;
    QLabel* status_cache_ = nullptr;
    QLabel* status_backend_ = nullptr;
    QComboBox* backend_box_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QProgressBar* save_progress_ = nullptr;  // shown while a session is saved, with save_cancel_
    QToolButton* save_cancel_ = nullptr;
    QMenu* recent_menu_ = nullptr;

    // Actions.
    QAction* open_model_ = nullptr;
    QAction* fetch_model_ = nullptr;
    QAction* open_session_ = nullptr;
    QAction* save_session_ = nullptr;
    QAction* reset_ = nullptr;
    QAction* step_ = nullptr;
    QAction* step_many_ = nullptr;
    QAction* run_ = nullptr;
    QAction* replay_ = nullptr;
    QAction* sweep_ = nullptr;
    QAction* export_heatmap_ = nullptr;
    QAction* export_csv_ = nullptr;
    QAction* export_strip_ = nullptr;
    QAction* export_plot_ = nullptr;

    // View state.
    QTimer frame_timer_;
    QElapsedTimer frame_clock_;
    qint64 thumbnails_asked_ns_ = 0;  // when the thumbnails were last asked for (a few times a second while running)
    bool thumbnails_pending_ = false; // a request put off by that limit, sent by a later frame
    uint64_t thumbnails_generation_ = 0;  // counts runs/files; a result from an older one is dropped
    bool dirty_ = false;           // something to draw at the next frame
    bool views_dirty_ = true;      // the shown entry's views must be redrawn even if the entry is the same
    int32_t requested_entry_ = 0;  // the timeline's entry when not following the newest
    bool follow_latest_ = true;    // the timeline sits at the newest entry
    int32_t shown_entry_ = -1;
    bool matrix_dirty_ = true;     // layer/heads changed: the heatmap's matrix must be rebuilt
    QStringList recent_;
    int frames_drawn_ = 0;
    bool budget_reported_ = false;  // the trace's memory-budget message was shown for this run
    std::vector<double> frame_times_ms_;
    bool first_shown_ = false;     // the first show gives the heatmap the focus
    bool dock_sizes_set_ = false;  // default dock proportions applied (or a saved state restored)
    int decode_threads_ = 0;  // 0 = QThread::idealThreadCount() - 1 (at least 1)
};

}  // namespace kvscope::gui
