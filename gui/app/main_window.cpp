#include "app/main_window.h"

#include "backends/backend_factory.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QCloseEvent>
#include <QShowEvent>
#include <QComboBox>
#include <QDockWidget>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QKeySequence>
#include <QLabel>
#include <QMenuBar>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSlider>
#include <QSpinBox>
#include <QScreen>
#include <QSplitter>
#include <QStandardItemModel>
#include <QStatusBar>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtDebug>

#include <algorithm>

#include "app/focused_control_keys.h"
#include "cacheviews/head_grid_view.h"
#include "cacheviews/kv_strip_view.h"
#include "cacheviews/token_text_view.h"
#include "controls/generation_panel.h"
#include "controls/model_info_panel.h"
#include "controls/policy_dock.h"
#include "heatmap/heatmap_view.h"
#include "plots/plots_panel.h"
#include "session/session.h"

// The icon and prompts are compiled into this static library; a static
// library's resources must be registered by hand (outside any namespace).
static void register_kvscope_resources() { Q_INIT_RESOURCE(kvscope); }

namespace kvscope::gui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    register_kvscope_resources();
    setWindowTitle("KVScope");
    setWindowIcon(QIcon(":/kvscope/icons/kvscope.svg"));
    setAcceptDrops(true);
    setDockNestingEnabled(true);
    buildActions();
    buildCentre();
    buildDocks();
    buildToolbar();
    buildMenus();
    connectController();
    frame_timer_.setInterval(33);  // ~30 redraws a second at most, whatever the token rate
    connect(&frame_timer_, &QTimer::timeout, this, &MainWindow::renderFrame);
    frame_timer_.start();
    frame_clock_.start();
    // Until a model is loaded the real limits are unknown: accept any policy a
    // model could take, so the remembered one is restored; the model's own
    // limits apply once it is loaded (modelLoaded below).
    policy_->setLimits(1 << 20, 1024, 1 << 20);
    restoreSettings();
    updatePinHint();
    updateActions();
}

MainWindow::~MainWindow() = default;

void MainWindow::buildActions() {
    auto make = [this](const QString& text, const QKeySequence& key, const QString& tip, auto slot) {
        auto* a = new QAction(text, this);
        if (!key.isEmpty()) a->setShortcut(key);
        a->setToolTip(key.isEmpty() ? tip : QString("%1 (%2)").arg(tip, key.toString(QKeySequence::NativeText)));
        a->setStatusTip(tip);
        connect(a, &QAction::triggered, this, slot);
        return a;
    };
    open_model_ = make(tr("Open model..."), QKeySequence::Open, tr("Open a GGUF model file"), [this] { chooseModelFile(); });
    fetch_model_ = make(tr("Fetch default model"), {}, tr("Download SmolLM2-135M-Instruct (Q4_1) into the cache"),
                        [this] { fetchDefaultModel(); });
    open_session_ = make(tr("Open session..."), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O),
                         tr("Open a saved session (JSON) and redraw every view from it"), [this] { chooseSessionToOpen(); });
    save_session_ = make(tr("Save session..."), QKeySequence::Save,
                         tr("Save the session (settings, prompt, tokens, metrics, attention) as JSON"),
                         [this] { chooseSessionToSave(); });
    reset_ = make(tr("Reset"), QKeySequence(Qt::CTRL | Qt::Key_R), tr("Start a new run: clear the cache and run the prompt"),
                  [this] { resetRun(); });
    step_ = make(tr("Step"), {}, tr("Generate one token"), [this] { stepOnce(); });
    step_many_ = make(tr("Step xN"), {}, tr("Generate N tokens"), [this] { stepMany(); });
    run_ = make(tr("Run"), {}, tr("Run until paused, the end of generation or the token limit"), [this] { toggleRun(); });
    // Space and Enter step and run unless the focused control uses them (a
    // typed value, a button, a combo); F10 and Ctrl+Enter / F5 from anywhere.
    auto* keys = new FocusedControlKeys(this);
    keys->bind(step_, {QKeySequence(Qt::Key_Space), QKeySequence(Qt::Key_F10)});
    keys->bind(step_many_, {QKeySequence(Qt::SHIFT | Qt::Key_Space), QKeySequence(Qt::SHIFT | Qt::Key_F10)});
    keys->bind(run_, {QKeySequence(Qt::Key_Return), QKeySequence(Qt::Key_Enter), QKeySequence(Qt::CTRL | Qt::Key_Return),
                      QKeySequence(Qt::CTRL | Qt::Key_Enter), QKeySequence(Qt::Key_F5)});
    run_->setToolTip(tr("Run until paused, the end of generation or the token limit (Enter; Ctrl+Enter or F5 while "
                        "typing in a field)"));
    step_->setToolTip(tr("Generate one token (Space; F10 while typing in a field)"));
    step_many_->setToolTip(tr("Generate N tokens (Shift+Space; Shift+F10 while typing in a field)"));
    replay_ = make(tr("Replay"), QKeySequence(Qt::CTRL | Qt::Key_P),
                   tr("Re-run the same tokens from the start under the current settings"), [this] { replay(); });
    sweep_ = make(tr("Sweep..."), QKeySequence(Qt::Key_F7),
                  tr("Perplexity over a grid of window and sink sizes"), [this] { chooseExport("sweep"); });
    export_heatmap_ = make(tr("Export heatmap..."), QKeySequence(Qt::CTRL | Qt::Key_E),
                           tr("Save the heatmap as PNG, SVG or PDF"), [this] { chooseExport("heatmap"); });
    export_csv_ = make(tr("Export heatmap matrix (CSV)..."), {}, tr("Save the heatmap's values as CSV"),
                       [this] { chooseExport("csv"); });
    export_strip_ = make(tr("Export KV strip..."), {}, tr("Save the KV cache strip as PNG"), [this] { chooseExport("strip"); });
    export_plot_ = make(tr("Export plot..."), {}, tr("Save one of the plots as PNG or PDF"), [this] { chooseExport("plot"); });
    // Window-wide, except where the focused control uses the key (FocusedControlKeys).
    for (QAction* a : {step_, step_many_, run_}) a->setShortcutContext(Qt::WindowShortcut);
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(open_model_);
    recent_menu_ = file->addMenu(tr("Recent models"));
    file->addAction(fetch_model_);
    file->addSeparator();
    file->addAction(open_session_);
    file->addAction(save_session_);
    file->addSeparator();
    file->addAction(export_heatmap_);
    file->addAction(export_csv_);
    file->addAction(export_strip_);
    file->addAction(export_plot_);
    file->addSeparator();
    QAction* quit = file->addAction(tr("Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu* run = menuBar()->addMenu(tr("&Run"));
    for (QAction* a : {reset_, step_, step_many_, run_, replay_}) run->addAction(a);
    QMenu* tools = menuBar()->addMenu(tr("&Tools"));
    tools->addAction(sweep_);
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    QAction* keys = help->addAction(tr("Keyboard shortcuts"), this, &MainWindow::showShortcuts);
    keys->setShortcut(QKeySequence::HelpContents);
    help->addAction(tr("About KVScope"), this, &MainWindow::showAbout);
    rebuildRecentMenu();
}

void MainWindow::buildToolbar() {
    QToolBar* bar = addToolBar(tr("Main"));
    bar->setObjectName("main-toolbar");
    bar->addAction(open_model_);
    backend_box_ = new QComboBox;
    backend_box_->setObjectName(QStringLiteral("backendBox"));
    fillBackendChoices();
    bar->addWidget(backend_box_);
    bar->addSeparator();
    bar->addAction(reset_);
    bar->addAction(step_);
    step_count_ = new QSpinBox;
    step_count_->setRange(2, 100000);
    step_count_->setValue(16);
    step_count_->setToolTip(tr("N for Step xN"));
    bar->addAction(step_many_);
    bar->addWidget(step_count_);
    bar->addAction(run_);
    bar->addAction(replay_);
    bar->addSeparator();
    auto* speed_label = new QLabel(tr(" delay "));
    bar->addWidget(speed_label);
    speed_ = new QSlider(Qt::Horizontal);
    speed_->setRange(0, 500);
    speed_->setMaximumWidth(120);
    speed_->setToolTip(tr("Pause between tokens while running (0 = as fast as the model goes)"));
    connect(speed_, &QSlider::valueChanged, this, [this](int ms) {
        controller_.setStepDelayMs(ms);
        speed_->setToolTip(tr("Pause between tokens while running: %1 ms").arg(ms));
    });
    bar->addWidget(speed_);
    bar->addSeparator();
    auto* export_button = new QToolButton;
    export_button->setText(tr("Export"));
    export_button->setPopupMode(QToolButton::InstantPopup);
    auto* export_menu = new QMenu(export_button);
    for (QAction* a : {export_heatmap_, export_csv_, export_strip_, export_plot_, save_session_}) export_menu->addAction(a);
    export_button->setMenu(export_menu);
    export_button->setToolTip(tr("Export the heatmap, KV strip, a plot or the session"));
    bar->addWidget(export_button);
    bar->addAction(sweep_);
}

void MainWindow::buildCentre() {
    // Heatmap with its selectors.
    auto* heat_panel = new QWidget;
    auto* heat_layout = new QVBoxLayout(heat_panel);
    heat_layout->setContentsMargins(0, 0, 0, 0);
    auto* selectors = new QHBoxLayout;
    layer_box_ = new QComboBox;
    layer_box_->setObjectName(QStringLiteral("layerBox"));
    layer_box_->setToolTip(tr("Layer shown in the heatmap, the strip's enlarged row and the text colours"));
    layer_box_->setSizeAdjustPolicy(QComboBox::AdjustToContents);  // "layer 29", "mean of heads" whole
    head_box_ = new QComboBox;
    head_box_->setObjectName(QStringLiteral("headsBox"));
    head_box_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    head_box_->setToolTip(tr("One query head, the mean or max over heads, or the mean over a KV-head group (GQA)"));
    log_scale_box_ = new QCheckBox(tr("log scale"));
    log_scale_box_->setToolTip(tr("Logarithmic colour scale (small attention weights become visible)"));
    auto* reset_zoom = new QPushButton(tr("Reset zoom"));
    reset_zoom->setToolTip(tr("Show the whole matrix (wheel zooms, drag pans)"));
    selectors->addWidget(new QLabel(tr("Layer")));
    selectors->addWidget(layer_box_);
    selectors->addWidget(new QLabel(tr("Heads")));
    selectors->addWidget(head_box_);
    selectors->addWidget(log_scale_box_);
    selectors->addStretch(1);
    selectors->addWidget(reset_zoom);
    heat_layout->addLayout(selectors);
    heatmap_ = new HeatmapView;
    // The heatmap takes the focus at start and on a click: there Space and
    // Enter step and run (a field with the focus keeps them for itself).
    heatmap_->setFocusPolicy(Qt::StrongFocus);
    heat_layout->addWidget(heatmap_, 1);
    connect(layer_box_, &QComboBox::currentIndexChanged, this, [this] {
        matrix_dirty_ = true;
        strip_->setSelectedLayer(selectedLayer());
        views_dirty_ = dirty_ = true;
    });
    connect(head_box_, &QComboBox::currentIndexChanged, this, [this] {
        matrix_dirty_ = true;
        views_dirty_ = dirty_ = true;
    });
    connect(log_scale_box_, &QCheckBox::toggled, heatmap_, &HeatmapView::setLogScale);
    connect(reset_zoom, &QPushButton::clicked, heatmap_, &HeatmapView::resetZoom);

    strip_ = new KvStripView;
    auto* strip_scroll = new QScrollArea;
    strip_scroll->setWidget(strip_);
    strip_scroll->setWidgetResizable(true);
    connect(strip_, &KvStripView::layerSelected, this, [this](int32_t layer) { layer_box_->setCurrentIndex(layer); });

    // Token text with its colouring choice.
    auto* text_panel = new QWidget;
    auto* text_layout = new QVBoxLayout(text_panel);
    text_layout->setContentsMargins(0, 0, 0, 0);
    auto* text_bar = new QHBoxLayout;
    text_coloring_box_ = new QComboBox;
    text_coloring_box_->addItem(tr("held / evicted (selected layer)"));
    text_coloring_box_->addItem(tr("divergence from the full cache"));
    text_coloring_box_->setToolTip(tr("Divergence needs the reference run (policy dock)"));
    text_bar->addWidget(new QLabel(tr("Text coloured by")));
    text_bar->addWidget(text_coloring_box_);
    text_bar->addStretch(1);
    pin_hint_ = new QLabel;
    pin_hint_->setObjectName(QStringLiteral("pinHint"));
    text_bar->addWidget(pin_hint_);
    text_layout->addLayout(text_bar);
    token_text_ = new TokenTextView;
    text_layout->addWidget(token_text_, 1);
    connect(text_coloring_box_, &QComboBox::currentIndexChanged, this, [this](int i) {
        token_text_->setColoring(i == 1 ? TokenColoring::Divergence : TokenColoring::Residency);
        views_dirty_ = dirty_ = true;
    });

    // Timeline.
    auto* timeline_panel = new QWidget;
    auto* timeline_layout = new QHBoxLayout(timeline_panel);
    timeline_layout->setContentsMargins(4, 0, 4, 0);
    timeline_ = new QSlider(Qt::Horizontal);
    timeline_->setRange(0, 0);
    timeline_->setToolTip(tr("Timeline: drag to see every view as it was at that step"));
    timeline_label_ = new QLabel(tr("no run"));
    timeline_label_->setMinimumWidth(180);
    timeline_layout->addWidget(new QLabel(tr("Step")));
    timeline_layout->addWidget(timeline_, 1);
    timeline_layout->addWidget(timeline_label_);
    // Dragging only asks for an entry; the frame timer draws it (at most ~30 a second).
    connect(timeline_, &QSlider::valueChanged, this, [this](int value) {
        follow_latest_ = value >= timeline_->maximum();
        requested_entry_ = value;
        dirty_ = true;
    });

    auto* right = new QSplitter(Qt::Vertical);
    right->setObjectName(QStringLiteral("centreSplitter"));
    right->setChildrenCollapsible(false);
    // The strip shows its legend, the selected layer and a few thin rows at least.
    strip_scroll->setMinimumHeight(std::min(strip_->minimumSizeHint().height(), 150));
    text_panel->setMinimumHeight(90);
    right->addWidget(heat_panel);
    right->addWidget(strip_scroll);
    right->addWidget(text_panel);
    right->setStretchFactor(0, 6);
    right->setStretchFactor(1, 3);
    right->setStretchFactor(2, 2);
    auto* centre = new QWidget;
    auto* centre_layout = new QVBoxLayout(centre);
    centre_layout->setContentsMargins(0, 0, 0, 0);
    centre_layout->addWidget(right, 1);
    centre_layout->addWidget(timeline_panel);
    setCentralWidget(centre);

    // Status bar: model · backend · tokens/s · step · cache fill.
    status_model_ = new QLabel(tr("no model"));
    status_model_->setObjectName(QStringLiteral("modelStatus"));
    status_rate_ = new QLabel;
    status_rate_->setObjectName(QStringLiteral("tokenRate"));
    status_step_ = new QLabel;
    status_cache_ = new QLabel;
    status_backend_ = new QLabel;
    status_backend_->setObjectName(QStringLiteral("backendStatus"));
    status_backend_->setToolTip(tr("The backend that computes the run shown"));
    progress_ = new QProgressBar;
    progress_->setMaximumWidth(160);
    progress_->setRange(0, 0);
    progress_->hide();
    statusBar()->addWidget(status_model_, 1);
    statusBar()->addPermanentWidget(progress_);
    save_progress_ = new QProgressBar;
    save_progress_->setObjectName(QStringLiteral("saveProgress"));
    save_progress_->setMaximumWidth(160);
    save_progress_->setRange(0, 100);
    save_progress_->setFormat(tr("saving %p %"));
    save_progress_->hide();
    save_cancel_ = new QToolButton;
    save_cancel_->setObjectName(QStringLiteral("saveCancel"));
    save_cancel_->setText(tr("Cancel"));
    save_cancel_->setToolTip(tr("Stop saving the session (nothing is written)"));
    save_cancel_->hide();
    connect(save_cancel_, &QToolButton::clicked, &saver_, &SessionSaver::cancel);
    statusBar()->addPermanentWidget(save_progress_);
    statusBar()->addPermanentWidget(save_cancel_);
    statusBar()->addPermanentWidget(status_backend_);
    statusBar()->addPermanentWidget(status_rate_);
    statusBar()->addPermanentWidget(status_step_);
    statusBar()->addPermanentWidget(status_cache_);
}

void MainWindow::buildDocks() {
    auto dock = [this](const QString& title, const QString& name, QWidget* w, Qt::DockWidgetArea area) {
        auto* d = new QDockWidget(title, this);
        d->setObjectName(name);
        d->setWidget(w);
        addDockWidget(area, d);
        return d;
    };
    generation_ = new GenerationPanel;
    policy_ = new PolicyPanel;
    model_info_ = new ModelInfoPanel;
    head_grid_ = new HeadGridView;
    auto* heads_scroll = new QScrollArea;
    heads_scroll->setWidget(head_grid_);
    heads_scroll->setWidgetResizable(true);
    auto* policy_scroll = new QScrollArea;
    policy_scroll->setWidget(policy_);
    policy_scroll->setWidgetResizable(true);
    // Scroll areas let the left column shrink below its forms' natural height.
    auto* generation_scroll = new QScrollArea;
    generation_scroll->setWidget(generation_);
    generation_scroll->setWidgetResizable(true);
    QDockWidget* prompt_dock = dock(tr("Prompt and sampling"), "prompt-dock", generation_scroll, Qt::LeftDockWidgetArea);
    QDockWidget* policy_dock = dock(tr("Cache policy"), "policy-dock", policy_scroll, Qt::LeftDockWidgetArea);
    auto* info_scroll = new QScrollArea;  // the facts wrap to the dock's width and scroll when long
    info_scroll->setWidget(model_info_);
    info_scroll->setWidgetResizable(true);
    info_scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    QDockWidget* info_dock = dock(tr("Model"), "model-dock", info_scroll, Qt::LeftDockWidgetArea);
    QDockWidget* heads_dock = dock(tr("Layers x heads"), "heads-dock", heads_scroll, Qt::LeftDockWidgetArea);
    // Three columns, each the full height: the forms on the left, the views in
    // the centre, the plots (stacked) on the right.
    setCorner(Qt::TopLeftCorner, Qt::LeftDockWidgetArea);
    setCorner(Qt::BottomLeftCorner, Qt::LeftDockWidgetArea);
    setCorner(Qt::TopRightCorner, Qt::RightDockWidgetArea);
    setCorner(Qt::BottomRightCorner, Qt::RightDockWidgetArea);
    tabifyDockWidget(prompt_dock, info_dock);
    prompt_dock->raise();
    tabifyDockWidget(policy_dock, heads_dock);
    policy_dock->raise();
    plots_ = new PlotsPanel;
    QDockWidget* plots_dock = dock(tr("Plots over steps"), "plots-dock", plots_, Qt::RightDockWidgetArea);
    // A column of plots beside the views, a row under or over them.
    plots_->setOrientation(Qt::Vertical);
    connect(plots_dock, &QDockWidget::dockLocationChanged, this, [this](Qt::DockWidgetArea area) {
        if (area == Qt::LeftDockWidgetArea || area == Qt::RightDockWidgetArea) plots_->setOrientation(Qt::Vertical);
        if (area == Qt::TopDockWidgetArea || area == Qt::BottomDockWidgetArea) plots_->setOrientation(Qt::Horizontal);
    });

    connect(&thumbnails_, &ThumbnailPooler::pooled, this, [this](std::shared_ptr<const PooledThumbnails> r) {
        // A result for another run or file, or for an entry no longer shown, is stale.
        if (controller_.history().empty() || r->generation != thumbnails_generation_ || r->entry != shown_entry_) return;
        if (!r->error.isEmpty()) {
            head_grid_->clear();
            qWarning().noquote() << "layer x head thumbnails:" << r->error;
            return;
        }
        head_grid_->setPooled(r->pooled, r->row_positions);
    });
    connect(head_grid_, &HeadGridView::headSelected, this, [this](int32_t layer, int32_t head) {
        layer_box_->setCurrentIndex(layer);
        head_box_->setCurrentIndex(2 + head);  // after "mean" and "max"
    });
    connect(token_text_, &TokenTextView::tokenClicked, this, [this](int32_t position) {
        policy_->togglePin(position);
        // The policy dock may be a hidden tab: say here too why a pin was refused.
        if (!policy_->refusal().isEmpty()) statusBar()->showMessage(policy_->refusal(), 8000);
    });
    connect(policy_, &PolicyPanel::policyChanged, this, [this](const PolicyConfig& p) {
        if (controller_.hasRun()) controller_.setPolicy(p);
    });
    connect(policy_, &PolicyPanel::inForceChanged, this, &MainWindow::updatePinHint);
    connect(policy_, &PolicyPanel::replayRequested, this, &MainWindow::replay);
    // A refusal is said where the person looks: the field (outlined) and here.
    connect(policy_, &PolicyPanel::refused, this, [this](const QString& m) { statusBar()->showMessage(m, 10000); });
    connect(generation_, &GenerationPanel::refused, this, [this](const QString& m) { statusBar()->showMessage(m, 10000); });
    policy_->setTokenText([this](int32_t p) {
        const SessionHistory& h = controller_.history();
        return h.empty() || p >= h.textLength() ? QString() : QString::fromStdString(h.tokenText(p)).trimmed();
    });
}

void MainWindow::connectController() {
    SessionController& c = controller_;
    SessionHistory& h = c.history();
    connect(&h, &SessionHistory::reset, this, &MainWindow::onHistoryReset);
    connect(&h, &SessionHistory::entryAdded, this, &MainWindow::onEntryAdded);
    connect(&h, &SessionHistory::matrixReady, this, [this](const QString& error) {
        if (!error.isEmpty()) showError(tr("Cannot show this heatmap"), error);
        showMatrix();
    });
    connect(&c, &SessionController::modelLoaded, this, [this](const QString& path, double ms) {
        const Model& m = *controller_.model();
        model_info_->setModel(m, path);
        generation_->setMaxContext(m.config().n_ctx_train);
        policy_->setLimits(generation_->contextLength(), m.config().n_layer, generation_->contextLength());
        // The model's own windows (gemma3) under the policy, said where the policy is shown.
        policy_->setPolicyNote([config = m.config()](const PolicyConfig& p) {
            return QString::fromStdString(native_window_note(p, config));
        });
        const std::string name = m.config().name.empty() ? QFileInfo(path).fileName().toStdString() : m.config().name;
        model_status_ = tr("%1 · loaded in %2 ms").arg(QString::fromStdString(name)).arg(ms, 0, 'f', 0);
        status_model_->setText(model_status_);
        fillLayerAndHeadChoices();
        addRecent(path);
        updateActions();
        resetRun();  // run the prompt at once: the views fill without another click
    });
    connect(&c, &SessionController::modelFailed, this, [this](const QString& path, const QString& message) {
        // The model loaded before (if any) is still the one in use: say so again.
        status_model_->setText(controller_.model() ? model_status_ : tr("no model"));
        showError(tr("Cannot open model"), tr("%1\n\n%2").arg(path, message));
        updateActions();
    });
    connect(&c, &SessionController::loadingChanged, this, [this](bool loading) {
        progress_->setVisible(loading);
        if (loading) statusBar()->showMessage(tr("Loading model..."));
        else statusBar()->clearMessage();
        updateActions();
    });
    connect(&c, &SessionController::busyChanged, this, [this](bool) { updateActions(); });
    connect(&saver_, &SessionSaver::progress, save_progress_, &QProgressBar::setValue);
    connect(&saver_, &SessionSaver::finished, this, &MainWindow::onSaveFinished);
    connect(&c, &SessionController::runStopped, this, [this](const QString& reason) {
        if (!reason.isEmpty()) statusBar()->showMessage(reason, 8000);
        updateActions();
    });
    connect(&c, &SessionController::failed, this, [this](const QString& m) { showError(tr("Refused"), m); });
    connect(&c, &SessionController::policyApplied, this, [this](const PolicyConfig& p) {
        QString m = tr("Policy from the next step: %1").arg(QString::fromStdString(p.describe()));
        // A model with its own windows (gemma3) keeps them whatever the policy: say so, not clamp silently.
        if (const std::shared_ptr<const Model>& model = controller_.model())
            if (const std::string note = native_window_note(p, model->config()); !note.empty())
                m += QStringLiteral("; ") + QString::fromStdString(note);
        statusBar()->showMessage(m, 8000);
    });
}

void MainWindow::updatePinHint() {
    // What a click on a token does under the policy in force, said before the click.
    const PolicyConfig& p = policy_->policy();
    const bool pins = p.kind == PolicyKind::Global;
    const QString why_not = tr("Clicks pin tokens under the global policy only (in force: %1); choose \"global\" in "
                               "Cache policy to pin tokens.")
                                .arg(QString::fromLatin1(policy_kind_name(p.kind)));
    pin_hint_->setText(pins ? tr("click a token to pin or unpin it") : tr("pinning: choose the global policy"));
    pin_hint_->setToolTip(pins ? tr("Pinned tokens are kept forever under the global policy.") : why_not);
    token_text_->setPinning(pins, why_not);
}

void MainWindow::updateActions() {
    const bool model = controller_.model() != nullptr;
    const bool loading = controller_.loading();
    const bool busy = controller_.busy();
    open_model_->setEnabled(!loading);
    reset_->setEnabled(model && !loading);
    step_->setEnabled(controller_.hasRun() && !busy);
    step_many_->setEnabled(controller_.hasRun() && !busy);
    run_->setEnabled(controller_.hasRun());
    run_->setText(busy ? tr("Pause") : tr("Run"));
    replay_->setEnabled(model && !loading && !controller_.history().generatedTokens().empty());
    sweep_->setEnabled(model && !loading);
    const bool has_history = !controller_.history().empty();
    for (QAction* a : {save_session_, export_heatmap_, export_csv_, export_strip_, export_plot_}) a->setEnabled(has_history);
    if (saver_.busy()) save_session_->setEnabled(false);  // one save at a time
}

void MainWindow::resetRun() {
    if (!controller_.model()) return;
    // Judge the policy by the coming run's limits, not by the last shown trace's
    // (pins may lie anywhere in the context of a text not yet written).
    const int32_t ctx = generation_->contextLength();
    policy_->setLimits(ctx, controller_.model()->config().n_layer, ctx);
    const QString refusal = !generation_->refusal().isEmpty() ? generation_->refusal() : policy_->refusal();
    if (!refusal.isEmpty()) {
        showError(tr("Cannot start"), refusal);
        return;
    }
    controller_.reset(currentSettings());
}

void MainWindow::stepOnce() { controller_.step(1); }
void MainWindow::stepMany() { controller_.step(step_count_->value()); }

void MainWindow::toggleRun() {
    if (controller_.busy())
        controller_.pause();
    else
        controller_.run();
}

void MainWindow::replay() {
    if (!controller_.model()) {
        showError(tr("Cannot replay"), tr("Load the model first."));
        return;
    }
    // The recorded prompt and tokens under the current settings, so the whole trace is comparable.
    controller_.replay(currentSettings());
}

RunSettings MainWindow::currentSettings() const {
    RunSettings s;
    s.prompt = generation_->prompt().toStdString();
    s.chat_template = generation_->chatTemplate();
    s.options.n_ctx = generation_->contextLength();
    s.options.sampling = generation_->sampling();
    s.options.policy = policy_->policy();
    s.options.reference_run = policy_->referenceRun();
    s.options.capture_attention = true;
    s.max_new_tokens = generation_->maxNewTokens();
    // By default one core is left to the GUI thread: the CPU backend's workers
    // synchronise per layer, and one preempted worker stalls them all (on 2
    // cores, 2 workers + the GUI decode at ~46 tok/s, 1 worker at ~83).
    s.backend = backendOptions();
    return s;
}

BackendOptions MainWindow::backendOptions() const {
    BackendOptions o;
    o.kind = static_cast<BackendKind>(backend_box_->currentData().toInt());
    o.threads = decode_threads_ > 0 ? decode_threads_ : std::max(1, QThread::idealThreadCount() - 1);
    return o;
}

void MainWindow::fillBackendChoices() {
    // What each backend would do on this machine, said before it is chosen;
    // the choice applies at the next Reset or Replay (a run keeps its backend).
    const BackendAvailability a = backend_availability(BackendOptions{});
    backend_box_->addItem(tr("Auto"), static_cast<int>(BackendKind::Auto));
    backend_box_->addItem(tr("CPU"), static_cast<int>(BackendKind::Cpu));
    backend_box_->addItem(tr("CUDA"), static_cast<int>(BackendKind::Cuda));
    const QString cuda = a.cuda_usable ? tr("CUDA: %1").arg(QString::fromStdString(a.cuda_device))
                                       : tr("CUDA: not available here (%1)").arg(QString::fromStdString(a.cuda_reason));
    if (!a.cuda_usable) {
        // Shown, but not choosable: the item says why.
        auto* model = qobject_cast<QStandardItemModel*>(backend_box_->model());
        if (QStandardItem* item = model ? model->item(2) : nullptr) {
            item->setEnabled(false);
            item->setToolTip(cuda);
        }
    }
    backend_box_->setToolTip(tr("Compute backend, from the next Reset or Replay.\nAuto: CUDA when a usable GPU exists, "
                                "else the CPU.\n%1").arg(cuda));
}

int32_t MainWindow::selectedLayer() const { return std::max(0, layer_box_->currentIndex()); }

HeadSelection MainWindow::headSelection() const {
    const int i = head_box_->currentIndex();
    const int n_head = controller_.history().empty() ? 0 : controller_.history().header().n_head;
    if (i <= 0) return {HeadReduce::Mean, 0};
    if (i == 1) return {HeadReduce::Max, 0};
    if (i - 2 < n_head) return {HeadReduce::Head, i - 2};
    return {HeadReduce::KvGroup, i - 2 - n_head};
}

void MainWindow::fillLayerAndHeadChoices() {
    int32_t n_layer = 0, n_head = 0, n_kv = 0;
    std::vector<int32_t> windows;  // [n_layer] the model's own window per layer (0 = global), or empty
    if (!controller_.history().empty()) {
        const TraceHeader& h = controller_.history().header();
        n_layer = h.n_layer, n_head = h.n_head, n_kv = h.n_head_kv;
        windows = h.layer_windows;
    } else if (controller_.model()) {
        const ModelConfig& c = controller_.model()->config();
        n_layer = c.n_layer, n_head = c.n_head, n_kv = c.n_head_kv;
        if (c.native_window > 0)
            for (int32_t l = 0; l < n_layer; ++l) windows.push_back(c.layer_window(l));
    }
    // A model with its own windows (Gemma 3, Phi-3) names each layer's kind in the chooser.
    QStringList layer_names;
    for (int32_t l = 0; l < n_layer; ++l) {
        const int32_t w = static_cast<size_t>(l) < windows.size() ? windows[static_cast<size_t>(l)] : 0;
        layer_names << (windows.empty() ? tr("layer %1").arg(l)
                        : w > 0         ? tr("layer %1 · local, window %2").arg(l).arg(w)
                                        : tr("layer %1 · global").arg(l));
    }
    head_grid_->setLayerWindows(windows);
    QStringList shown;
    for (int i = 0; i < layer_box_->count(); ++i) shown << layer_box_->itemText(i);
    if (shown == layer_names && head_box_->count() == 2 + n_head + n_kv) return;
    const int layer = layer_box_->currentIndex();
    const int heads = head_box_->currentIndex();
    QSignalBlocker b1(layer_box_), b2(head_box_);
    layer_box_->clear();
    layer_box_->addItems(layer_names);
    head_box_->clear();
    head_box_->addItem(tr("mean of heads"));
    head_box_->addItem(tr("max of heads"));
    for (int32_t h = 0; h < n_head; ++h) head_box_->addItem(tr("head %1").arg(h));
    for (int32_t g = 0; g < n_kv; ++g) head_box_->addItem(tr("KV group %1").arg(g));
    layer_box_->setCurrentIndex(layer >= 0 && layer < n_layer ? layer : 0);
    head_box_->setCurrentIndex(heads >= 0 && heads < head_box_->count() ? heads : 0);
    strip_->setSelectedLayer(selectedLayer());
    matrix_dirty_ = true;
}

void MainWindow::showEvent(QShowEvent* event) {
    QMainWindow::showEvent(event);
    if (!first_shown_) {
        first_shown_ = true;
        heatmap_->setFocus(Qt::OtherFocusReason);  // not the prompt editor, where Space types
    }
    if (dock_sizes_set_) return;
    dock_sizes_set_ = true;
    // Default proportions, unless a saved window state set them: a left column
    // wide enough for the forms, the policy form taller than the prompt editor,
    // plots tall enough for their axes and legends, the heatmap the largest view.
    auto* plots = findChild<QDockWidget*>("plots-dock");
    auto* prompt = findChild<QDockWidget*>("prompt-dock");
    auto* policy = findChild<QDockWidget*>("policy-dock");
    resizeDocks({prompt}, {std::clamp(width() / 4, 300, 420)}, Qt::Horizontal);
    resizeDocks({plots}, {std::clamp(width() / 4, 300, 520)}, Qt::Horizontal);
    resizeDocks({prompt, policy}, {height() * 2 / 5, height() * 3 / 5}, Qt::Vertical);
    if (auto* splitter = findChild<QSplitter*>("centreSplitter")) {
        const int h = std::max(300, splitter->height());
        splitter->setSizes({h * 55 / 100, h * 25 / 100, h * 20 / 100});
    }
}

QSize MainWindow::defaultSize(const QRect& available) {
    // Most of the screen (the views all want room), never more than a large
    // desktop's worth, never less than the forms need.
    const int w = std::clamp(available.width() * 9 / 10, std::min(available.width(), 1024), 2400);
    const int h = std::clamp(available.height() * 9 / 10, std::min(available.height(), 700), 1500);
    return {w, h};
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (saver_.busy()) {
        // The session being saved is the user's work: the window closes once it
        // is written (or at once if they cancel the save), never half-way.
        close_when_saved_ = true;
        statusBar()->showMessage(tr("Closing once the session is saved to %1 (Cancel stops the save)…").arg(saver_.path()));
        event->ignore();
        return;
    }
    saveSettings();
    disconnect(&fetcher_, nullptr, this, nullptr);  // no dialogs from a download cut short by closing
    fetcher_.cancel();
    QMainWindow::closeEvent(event);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    const QMimeData* mime = event->mimeData();
    if (mime->hasUrls() && mime->urls().size() == 1 && mime->urls().front().isLocalFile()) {
        const QString f = mime->urls().front().toLocalFile();
        if (f.endsWith(".gguf", Qt::CaseInsensitive) || f.endsWith(".json", Qt::CaseInsensitive))
            event->acceptProposedAction();
    }
}

void MainWindow::dropEvent(QDropEvent* event) {
    const QString f = event->mimeData()->urls().front().toLocalFile();
    if (f.endsWith(".json", Qt::CaseInsensitive))
        openSession(f);
    else
        openModel(f);
    event->acceptProposedAction();
}

}  // namespace kvscope::gui
