// The main window at the size it opens at, on a 1600 x 1000 screen (the
// offscreen platform configured by tests/gui/offscreen-1600x1000.json; its
// default screen is 800 x 600): it uses the screen, and every view has room —
// plots tall enough with whole legends and ticks that do not collide, the
// heads box's text whole, several KV-strip rows, a policy form taller than a
// row, the model facts wrapped inside their panel.
#include <QtTest>

#include <QComboBox>
#include <QDockWidget>
#include <QLabel>
#include <QScreen>
#include <QScrollArea>
#include <QSettings>
#include <QStandardPaths>
#include <qcustomplot.h>

#include "app_test_window.h"
#include "cacheviews/kv_strip_view.h"
#include "controls/model_info_panel.h"
#include "gui_test_support.h"
#include "heatmap/heatmap_view.h"
#include "plots/plots_panel.h"

using namespace kvscope;
using namespace kvscope::gui;
using namespace kvscope::test;

namespace {

// The pixel rectangles of an axis' tick labels, as drawn (after a replot).
std::vector<QRectF> tick_label_rects(QCPAxis* axis) {
    std::vector<QRectF> rects;
    const QFontMetricsF fm(axis->tickLabelFont());
    const QVector<double> ticks = axis->tickVector();
    const QVector<QString> labels = axis->tickVectorLabels();
    for (int i = 0; i < ticks.size() && i < labels.size(); ++i) {
        if (!axis->range().contains(ticks[i])) continue;
        const double x = axis->coordToPixel(ticks[i]);
        const double w = fm.horizontalAdvance(labels[i]);
        rects.emplace_back(x - w / 2, 0, w, fm.height());
    }
    return rects;
}

}  // namespace

class AppLayoutTest : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<MainWindow> window_;

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QSettings().clear();  // no saved geometry: the window opens at its default size
        const QRect screen = QGuiApplication::primaryScreen()->availableGeometry();
        if (screen.width() < 1600 || screen.height() < 1000)
            QSKIP("needs the 1600 x 1000 offscreen screen (QT_QPA_PLATFORM=offscreen:configfile=tests/gui/"
                  "offscreen-1600x1000.json, as CTest sets it)");
        KVSCOPE_QTEST_REQUIRE_MODEL_PATH(path);
        window_ = open_app_window(QString::fromStdString(path), sinks_window(32, 4), /*reference=*/true,
                                  QStringLiteral("The history of the printing press begins in the fifteenth century"),
                                  QSize());  // the app's own size
        QVERIFY(window_ != nullptr);
        QVERIFY(step_and_wait(*window_, 40));
        QVERIFY(settle(*window_));
        window_->plots()->refreshNow();
        for (const QString& name : window_->plots()->plotNames()) window_->plots()->plotByName(name)->replot();
    }
    void cleanupTestCase() { window_.reset(); }

    void theWindowUsesTheScreen() {
        const QRect available = QGuiApplication::primaryScreen()->availableGeometry();
        const QSize size = window_->size();
        qInfo("window %d x %d on %d x %d", size.width(), size.height(), available.width(), available.height());
        QCOMPARE(size, MainWindow::defaultSize(available));
        QVERIFY(size.width() >= available.width() * 8 / 10 && size.height() >= available.height() * 8 / 10);
        QVERIFY(available.contains(window_->frameGeometry().adjusted(1, 1, -1, -1)) ||
                window_->frameGeometry().width() <= available.width());
    }

    void theHeatmapIsTheLargestView() {
        const QSize heat = window_->heatmap()->size();
        qInfo("heatmap %d x %d", heat.width(), heat.height());
        QVERIFY(heat.width() >= 600 && heat.height() >= 320);
    }

    void plotsHaveRoomWholeLegendsAndTicksThatDoNotCollide() {
        for (const QString& name : window_->plots()->plotNames()) {
            QCustomPlot* plot = window_->plots()->plotByName(name);
            qInfo("plot %s: %d x %d, axis rect %d px high", qPrintable(name), plot->width(), plot->height(),
                  plot->axisRect()->height());
            QVERIFY2(plot->axisRect()->height() >= 80, qPrintable(name));  // a few readable ticks (was ~60 px)
            QVERIFY2(plot->width() >= 280, qPrintable(name));
            // Every legend entry drawn whole inside the plot.
            if (plot->legend->visible()) {
                for (int i = 0; i < plot->legend->itemCount(); ++i) {
                    QCPAbstractLegendItem* item = plot->legend->item(i);
                    if (item == nullptr) continue;
                    const QRect r = item->outerRect();
                    QVERIFY2(plot->rect().contains(r), qPrintable(QString("%1: legend entry %2 at %3,%4 %5x%6 outside the plot")
                                                                     .arg(name).arg(i).arg(r.x()).arg(r.y()).arg(r.width()).arg(r.height())));
                    QVERIFY2(r.width() >= item->minimumOuterSizeHint().width(), qPrintable(name + ": a legend entry is cut"));
                }
            }
            // The title whole.
            if (auto* title = qobject_cast<QCPTextElement*>(plot->plotLayout()->element(0, 0)))
                QVERIFY2(QFontMetrics(title->font()).horizontalAdvance(title->text()) <= plot->width(), qPrintable(name));
            // x tick labels apart from each other.
            const std::vector<QRectF> ticks = tick_label_rects(plot->xAxis);
            QVERIFY(ticks.size() >= 2);
            for (size_t i = 1; i < ticks.size(); ++i)
                QVERIFY2(ticks[i].left() >= ticks[i - 1].right() + 4, qPrintable(name + ": x tick labels collide"));
        }
    }

    void theHeadsBoxShowsItsTextWhole() {
        auto* heads = window_->findChild<QComboBox*>(QStringLiteral("headsBox"));
        QVERIFY(heads != nullptr);
        QVERIFY2(heads->width() >= heads->sizeHint().width(),
                 qPrintable(QString("%1 px for a text needing %2").arg(heads->width()).arg(heads->sizeHint().width())));
    }

    void theStripShowsSeveralLayers() {
        KvStripView* strip = window_->strip();
        auto* scroll = qobject_cast<QScrollArea*>(strip->parentWidget()->parentWidget());
        QVERIFY(scroll != nullptr);
        const int visible = scroll->viewport()->height();
        int whole_rows = 0;
        for (int32_t l = 0; l < 30; ++l)
            if (strip->rowRect(l).bottom() <= visible) ++whole_rows;
        qInfo("KV strip: %d px visible, %d of 30 layer rows whole", visible, whole_rows);
        QVERIFY(whole_rows >= 8);
    }

    void thePolicyFormHasRoomAndItsStateShows() {
        auto* dock = window_->findChild<QDockWidget*>(QStringLiteral("policy-dock"));
        QVERIFY(dock != nullptr && dock->isVisible());
        qInfo("policy dock %d px high", dock->height());
        QVERIFY(dock->height() >= 320);
        auto* in_force = window_->findChild<QLabel*>(QStringLiteral("inForceLabel"));
        QVERIFY(in_force->visibleRegion().boundingRect().height() >= in_force->height() / 2);
    }

    // Shown in its dock (a tab beside the prompt): every fact wraps inside the
    // panel's width and gets the height its lines need (the panel scrolls).
    void theModelFactsWrapInsideTheirPanel() {
        ModelInfoPanel* info = window_->modelInfo();
        auto* dock = window_->findChild<QDockWidget*>(QStringLiteral("model-dock"));
        dock->raise();
        QTRY_VERIFY(info->isVisible());
        QApplication::processEvents();
        int checked = 0;
        for (QLabel* label : info->findChildren<QLabel*>()) {
            if (!label->isVisible()) continue;
            const QString what = label->text().left(40);
            QVERIFY2(label->geometry().right() <= info->width(), qPrintable(QString("'%1' runs past the panel").arg(what)));
            if (label->wordWrap())
                QVERIFY2(label->height() >= label->heightForWidth(label->width()),
                         qPrintable(QString("'%1' is cut: %2 px for %3").arg(what).arg(label->height())
                                        .arg(label->heightForWidth(label->width()))));
            ++checked;
        }
        QVERIFY(checked > 20);
        window_->findChild<QDockWidget*>(QStringLiteral("prompt-dock"))->raise();
    }
};

QTEST_MAIN(AppLayoutTest)
#include "app_layout_test.moc"
