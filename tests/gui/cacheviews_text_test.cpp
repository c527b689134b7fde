// TokenTextView with a real session's tokens, residency and divergence.
#include <QFontMetricsF>
#include <QScrollBar>
#include <QSignalSpy>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>

#include "cacheviews/role_colors.h"
#include "cacheviews/token_text_view.h"
#include "cacheviews_test_session.h"
#include "gui_test_support.h"

using kvscope::gui::TokenCell;
using kvscope::gui::TokenColoring;
using kvscope::gui::TokenTextView;

namespace {

// The cells the lead would build for `layer` at the session's last step.
std::vector<TokenCell> cellsOf(const kvscope::test::RecordedSession& rec, int32_t layer) {
    const kvscope::Session& s = *rec.session;
    const kvscope::StepSnapshot& last = rec.steps.back();
    const kvscope::LayerCacheView& v = last.layers[static_cast<size_t>(layer)];
    std::vector<TokenCell> cells;
    for (int32_t p = 0; p < static_cast<int32_t>(s.tokens().size()); ++p) {
        TokenCell c;
        c.position = p;
        c.text = kvscope::test::piece_at(s, p);
        c.prompt = p < s.n_prompt();
        const auto it = std::lower_bound(v.held_positions.begin(), v.held_positions.end(), p);
        const bool in_cache = it != v.held_positions.end() && *it == p;
        c.held = in_cache || p == last.position;  // the newest token is not stored until the next step
        if (in_cache) c.role = v.held_roles[static_cast<size_t>(it - v.held_positions.begin())];
        c.pinned = s.policy().pins.count(p) > 0;
        cells.push_back(c);
    }
    for (const kvscope::StepSnapshot& snap : rec.steps)
        if (snap.reference) {
            cells[static_cast<size_t>(snap.position)].divergence = snap.reference->kl_full_policy;
            cells[static_cast<size_t>(snap.position)].top1_agrees = snap.reference->top1_agrees;
        }
    return cells;
}

QColor backgroundPixel(TokenTextView& view, int32_t position) {
    const QImage img = view.viewport()->grab().toImage();
    const QPoint p = view.tokenRect(position).topLeft() + QPoint(1, 1);
    const qreal dpr = img.devicePixelRatio();
    return img.pixelColor(QPoint(static_cast<int>(p.x() * dpr), static_cast<int>(p.y() * dpr)));
}

const char* kPrompt = "The capital of France is Paris.\nThe capital of Italy is";

}  // namespace

class CacheviewsTextTest : public QObject {
    Q_OBJECT
private slots:
    void plainTextIsTheDecodedText();
    void clickEmitsPosition();
    void evictedDiffersFromHeldInBothModes();
    void fourThousandTokensScrollToTheNewest();
    void followsNewTokensUnlessScrolledAway();
    void utf8SplitAcrossTokensIsShownWhole();
    void divergenceShadeOrdersAndSaturates();
    void incrementalSetTokensEqualsFullLayout();
    void longTokenWrapsAtGraphemeBoundaries();
    void pinnedIsUnderlinedInTheGlobalColour();
};

void CacheviewsTextTest::utf8SplitAcrossTokensIsShownWhole() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    // Byte-level BPE cuts rare characters into tokens that are not valid UTF-8 alone.
    const std::string text = "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e";  // café 😀 日本語
    const auto ids = model.tokenizer().encode(text, false, false);
    std::vector<TokenCell> cells;
    bool split = false;
    for (size_t i = 0; i < ids.size(); ++i) {
        TokenCell c;
        c.position = static_cast<int32_t>(i);
        c.text = model.tokenizer().token_to_piece(ids[i]);
        const QString alone = QString::fromUtf8(c.text.data(), static_cast<qsizetype>(c.text.size()));
        split = split || alone.contains(QChar::ReplacementCharacter);
        cells.push_back(c);
    }
    QVERIFY2(split, "expected a token holding part of a UTF-8 sequence");
    TokenTextView view;
    view.resize(300, 200);
    view.setTokens(cells);
    QCOMPARE(view.plainText(), QString::fromUtf8(text.data(), static_cast<qsizetype>(text.size())));
    QVERIFY(!view.plainText().contains(QChar::ReplacementCharacter));
}

void CacheviewsTextTest::plainTextIsTheDecodedText() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    auto rec = kvscope::test::record_session(model, kvscope::test::global_policy(8, {1, 3}), 12, kPrompt);
    const auto cells = cellsOf(rec, 0);
    TokenTextView view;
    view.resize(420, 300);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setTokens(cells);
    const std::string decoded = model.tokenizer().decode(rec.session->tokens());
    QCOMPARE(view.plainText(), QString::fromUtf8(decoded.data(), static_cast<qsizetype>(decoded.size())));
    QVERIFY(view.plainText().contains(QLatin1Char('\n')));
    // The token after the newline starts a new line at the left margin.
    int32_t nl = -1;
    for (const TokenCell& c : cells)
        if (c.text.find('\n') != std::string::npos) {
            nl = c.position;
            break;
        }
    QVERIFY(nl >= 0);
    const QRect before = view.tokenRect(nl), after = view.tokenRect(nl + 1);
    QVERIFY(after.top() >= before.bottom());
    QVERIFY(after.left() <= view.tokenRect(0).left());
    view.clear();
    QCOMPARE(view.plainText(), QString());
    QVERIFY(view.tokenRect(0).isEmpty());
}

void CacheviewsTextTest::clickEmitsPosition() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    auto rec = kvscope::test::record_session(model, kvscope::test::global_policy(8, {1, 3}), 12, kPrompt);
    const auto cells = cellsOf(rec, 0);
    TokenTextView view;
    view.resize(420, 300);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setTokens(cells);
    QSignalSpy spy(&view, &TokenTextView::tokenClicked);
    const int32_t generated = rec.steps[4].position, prompt_token = 5;
    QTest::mouseClick(view.viewport(), Qt::LeftButton, {}, view.tokenRect(generated).center());
    QTest::mouseClick(view.viewport(), Qt::LeftButton, {}, view.tokenRect(prompt_token).center());
    QCOMPARE(spy.count(), 2);
    QCOMPARE(spy.at(0).at(0).toInt(), generated);
    QCOMPARE(spy.at(1).at(0).toInt(), prompt_token);
    // Right of the last token on a line, nothing is clicked.
    QTest::mouseClick(view.viewport(), Qt::LeftButton, {}, QPoint(view.viewport()->width() - 2, view.viewport()->height() - 2));
    QCOMPARE(spy.count(), 2);
}

void CacheviewsTextTest::evictedDiffersFromHeldInBothModes() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    auto rec = kvscope::test::record_session(model, kvscope::test::global_policy(8, {1, 3}), 14, kPrompt,
                                             /*reference_run=*/true);
    const auto cells = cellsOf(rec, 0);
    TokenTextView view;
    view.resize(480, 400);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setTokens(cells);
    QCOMPARE(view.coloring(), TokenColoring::Residency);
    // Positions 2 (prompt, evicted), 1 (prompt, pinned global), the first generated token (evicted
    // by now: window 8) and the last but one (held in the window).
    const int32_t evicted_prompt = 2, pinned = 1;
    const int32_t evicted_gen = rec.steps[0].position, held_gen = rec.steps[rec.steps.size() - 2].position;
    QVERIFY(!cells[evicted_prompt].held && cells[pinned].held && cells[pinned].pinned);
    QCOMPARE(cells[pinned].role, kvscope::SlotRole::Global);
    QVERIFY(!cells[static_cast<size_t>(evicted_gen)].held && cells[static_cast<size_t>(held_gen)].held);

    for (const TokenColoring mode : {TokenColoring::Residency, TokenColoring::Divergence}) {
        const QRect rect_before = view.tokenRect(held_gen);
        view.setColoring(mode);
        QCOMPARE(view.tokenRect(held_gen), rect_before);  // colours only, no relayout
        for (const int32_t p : {evicted_prompt, pinned, evicted_gen, held_gen})
            QCOMPARE(backgroundPixel(view, p), view.tokenBackground(p));  // what is painted is what it says
        QVERIFY(view.tokenBackground(evicted_prompt) != view.tokenBackground(pinned));
        QVERIFY(view.tokenForeground(evicted_gen) != view.tokenForeground(held_gen));
        QVERIFY(view.tokenForeground(evicted_prompt) != view.tokenForeground(pinned));
    }
    // Residency: evicted on pale red, held in their role colours.
    view.setColoring(TokenColoring::Residency);
    QVERIFY(view.tokenBackground(evicted_gen) != view.tokenBackground(held_gen));
    QCOMPARE(view.tokenBackground(evicted_gen), view.tokenBackground(evicted_prompt));
    // Divergence (the shade itself: divergenceShadeOrdersAndSaturates).
    view.setColoring(TokenColoring::Divergence);
    // A prompt token has no divergence: white when held, greyed when evicted.
    QCOMPARE(view.tokenBackground(pinned), QColor(255, 255, 255));
}

void CacheviewsTextTest::fourThousandTokensScrollToTheNewest() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    auto rec = kvscope::test::record_session(model, kvscope::test::sinks_window_policy(16, 4), 24, kPrompt);
    const auto real = cellsOf(rec, 3);
    std::vector<TokenCell> cells;  // the real tokens repeated to 4,000 positions
    for (int32_t p = 0; p < 4000; ++p) {
        TokenCell c = real[static_cast<size_t>(p) % real.size()];
        c.position = p;
        c.prompt = p < 12;
        c.held = p < 4 || p >= 4000 - 16;
        cells.push_back(c);
    }
    TokenTextView view;
    view.resize(600, 400);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setTokens(cells);
    // Generation follows the newest token: the view scrolled to the bottom.
    QCOMPARE(view.verticalScrollBar()->value(), view.verticalScrollBar()->maximum());
    QVERIFY(view.verticalScrollBar()->maximum() > 0);
    // The last token is on screen and clickable.
    QSignalSpy spy(&view, &TokenTextView::tokenClicked);
    const QRect last = view.tokenRect(3999);
    QVERIFY(view.viewport()->rect().contains(last.center()));
    QTest::mouseClick(view.viewport(), Qt::LeftButton, {}, last.center());
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).toInt(), 3999);
    QCOMPARE(view.plainText().size(), [&] {
        qsizetype n = 0;
        for (const TokenCell& c : cells) n += QString::fromStdString(c.text).size();
        return n;
    }());
}

// A long run: new tokens keep the view at the bottom, also after a resize;
// scrolling up stops that (the person reads back), scrolling back down
// follows again.
void CacheviewsTextTest::followsNewTokensUnlessScrolledAway() {
    std::vector<TokenCell> cells;
    for (int32_t p = 0; p < 3000; ++p) {
        TokenCell c;
        c.position = p;
        c.text = p % 13 == 0 ? "\n" : " word";
        c.prompt = p < 10;
        cells.push_back(c);
    }
    TokenTextView view;
    view.resize(500, 200);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QScrollBar* bar = view.verticalScrollBar();
    std::vector<TokenCell> shown(cells.begin(), cells.begin() + 100);
    view.setTokens(shown);
    for (size_t n = 100; n < 2000; n += 100) {  // the run goes on
        shown.assign(cells.begin(), cells.begin() + static_cast<std::ptrdiff_t>(n));
        view.setTokens(shown);
        QCOMPARE(bar->value(), bar->maximum());
    }
    QVERIFY(bar->maximum() > 0);
    view.resize(420, 260);  // a new width wraps anew: still at the newest token
    QApplication::processEvents();
    QCOMPARE(bar->value(), bar->maximum());
    QVERIFY(view.following());
    // The person scrolls up (a wheel turn or a click on the bar): the view stays there.
    bar->triggerAction(QAbstractSlider::SliderPageStepSub);
    QVERIFY(!view.following());
    const int kept = bar->value();
    shown.assign(cells.begin(), cells.begin() + 2500);
    view.setTokens(shown);
    QCOMPARE(bar->value(), kept);
    QVERIFY(bar->value() < bar->maximum());
    // Back at the bottom, it follows again.
    bar->triggerAction(QAbstractSlider::SliderToMaximum);
    QVERIFY(view.following());
    view.setTokens(cells);
    QCOMPARE(bar->value(), bar->maximum());
}

namespace {

TokenCell cell(int32_t position, std::string text, bool prompt = false) {
    TokenCell c;
    c.position = position;
    c.text = std::move(text);
    c.prompt = prompt;
    return c;
}

// Synthetic text with everything the layout handles: prompt (italic) tokens,
// newlines, a tab, a character split over three tokens, an empty piece, a
// token wider than the view.
std::vector<TokenCell> syntheticCells() {
    const std::vector<std::string> pieces = {"<|im_start|>", "The", " capital", " of", "\n", "France", "\tis",
                                             "\xE6", "\x97", "\xA5", "", " Paris", ".\n\n", std::string(150, 'w'),
                                             " caf\xC3\xA9", " end"};
    std::vector<TokenCell> cells;
    for (size_t i = 0; i < pieces.size(); ++i) cells.push_back(cell(static_cast<int32_t>(i), pieces[i], i < 4));
    return cells;
}

void compareViews(const TokenTextView& a, const TokenTextView& b, const std::vector<TokenCell>& cells) {
    QCOMPARE(a.plainText(), b.plainText());
    for (const TokenCell& c : cells) {
        QCOMPARE(a.tokenRect(c.position), b.tokenRect(c.position));
        QCOMPARE(a.tokenFragments(c.position), b.tokenFragments(c.position));
        QCOMPARE(a.tokenBackground(c.position), b.tokenBackground(c.position));
        QCOMPARE(a.tokenForeground(c.position), b.tokenForeground(c.position));
    }
}

}  // namespace

void CacheviewsTextTest::divergenceShadeOrdersAndSaturates() {
    std::vector<TokenCell> cells;
    for (const double kl : {0.0, 0.5, 1.0, 2.0, std::numeric_limits<double>::quiet_NaN()}) {
        TokenCell c = cell(static_cast<int32_t>(cells.size()), "tok");
        c.divergence = kl;
        cells.push_back(c);
    }
    TokenCell evicted = cells[1];  // KL 0.5, evicted
    evicted.position = 5;
    evicted.held = false;
    cells.push_back(evicted);
    TokenTextView view;
    view.resize(400, 200);
    view.setTokens(cells);
    view.setColoring(TokenColoring::Divergence);
    const QColor white(255, 255, 255), high(213, 94, 0);  // kDivergenceHigh (vermillion)
    QCOMPARE(view.tokenBackground(0), white);             // KL 0: no shade
    QCOMPARE(view.tokenBackground(4), white);             // no divergence known
    QCOMPARE(view.tokenBackground(1), QColor(234, 175, 128));  // halfway to the full shade
    QCOMPARE(view.tokenBackground(2), high);              // saturates at kDivergenceFullScale = 1 ...
    QCOMPARE(view.tokenBackground(3), high);              // ... and stays there
    QVERIFY(view.tokenBackground(0).green() > view.tokenBackground(1).green());
    QVERIFY(view.tokenBackground(1).green() > view.tokenBackground(2).green());
    // Evicted: the same shade greyed, so it differs from the held one.
    QVERIFY(view.tokenBackground(5) != view.tokenBackground(1));
}

void CacheviewsTextTest::incrementalSetTokensEqualsFullLayout() {
    const std::vector<TokenCell> all = syntheticCells();
    TokenTextView grown, full;
    for (TokenTextView* v : {&grown, &full}) {
        v->resize(260, 300);
        v->show();
        QVERIFY(QTest::qWaitForWindowExposed(v));
    }
    // Generation: one token more per call, as the main window does.
    std::vector<TokenCell> shown;
    for (const TokenCell& c : all) {
        shown.push_back(c);
        const int64_t before = grown.tokensLaidOut();
        grown.setTokens(shown);
        const int64_t laid = grown.tokensLaidOut() - before;
        // One token, or a few when the new one completes a character split over earlier tokens.
        QVERIFY2(laid >= 1 && laid <= 3, qPrintable(QStringLiteral("token %1: %2 laid out").arg(c.position).arg(laid)));
        if (shown.size() > 1 && shown[shown.size() - 2].text != "\xE6" && shown[shown.size() - 2].text != "\x97")
            QCOMPARE(laid, int64_t{1});
        full.setTokens(shown);
        compareViews(grown, full, shown);
        if (QTest::currentTestFailed()) return;
    }
    QCOMPARE(grown.plainText(), QString::fromUtf8("<|im_start|>The capital of\nFrance\tis日 Paris.\n\n") +
                                    QString(150, QLatin1Char('w')) + QString::fromUtf8(" café end"));
    // Colour-only changes (held, pinned, role, divergence) lay out nothing.
    std::vector<TokenCell> recoloured = all;
    recoloured[2].held = false;
    recoloured[5].pinned = true;
    recoloured[6].role = kvscope::SlotRole::Sink;
    recoloured[11].divergence = 0.7;
    const int64_t before = grown.tokensLaidOut();
    grown.setTokens(recoloured);
    QCOMPARE(grown.tokensLaidOut(), before);
    full.setTokens(recoloured);
    compareViews(grown, full, recoloured);
    QVERIFY(grown.tokenBackground(2) != grown.tokenBackground(3));  // the new colours are used
    // A changed token in the middle re-lays out from there; a shorter list drops the rest.
    std::vector<TokenCell> edited = recoloured;
    edited[8].text.assign(1, 'x');  // breaks the split character: its bytes become U+FFFD, as fromUtf8 does
    grown.setTokens(edited);
    full.setTokens(edited);
    compareViews(grown, full, edited);
    edited.resize(6);
    grown.setTokens(edited);
    full.setTokens(edited);
    compareViews(grown, full, edited);
    QVERIFY(grown.tokenRect(10).isEmpty());
}

void CacheviewsTextTest::longTokenWrapsAtGraphemeBoundaries() {
    // 120 emoji (surrogate pairs in UTF-16), some with a skin-tone modifier, in one token.
    std::string text;
    const std::string thumbs_up = "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD", grin = "\xF0\x9F\x98\x80";
    for (int i = 0; i < 120; ++i) text.append(i % 3 == 0 ? thumbs_up : grin);
    TokenTextView view;
    view.resize(240, 300);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setTokens({cell(0, "a"), cell(1, text), cell(2, "b")});
    const QStringList parts = view.tokenFragments(1);
    QVERIFY2(parts.size() >= 3, qPrintable(QString::number(parts.size())));  // wrapped over several lines
    QCOMPARE(parts.join(QString()), QString::fromUtf8(text.data(), static_cast<qsizetype>(text.size())));
    for (const QString& p : parts) {
        QVERIFY(!p.isEmpty());
        QVERIFY(!p.front().isLowSurrogate());
        QVERIFY(!p.back().isHighSurrogate());
        QVERIFY(!p.startsWith(QString::fromUtf8("\xF0\x9F\x8F\xBD")));  // a modifier stays with its emoji
    }
    // The next token starts below the long one.
    QVERIFY(view.tokenRect(2).top() > view.tokenRect(1).bottom());
}

void CacheviewsTextTest::pinnedIsUnderlinedInTheGlobalColour() {
    std::vector<TokenCell> cells = {cell(0, "pinned"), cell(1, "plain")};
    cells[0].pinned = true;
    TokenTextView view;
    view.resize(300, 120);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setTokens(cells);
    const QImage img = view.viewport()->grab().toImage();
    const qreal dpr = img.devicePixelRatio();
    const QColor global = kvscope::gui::roleColor(kvscope::SlotRole::Global);
    // Device rows of the token's box whose centre pixel is in the global colour.
    const auto globalRows = [&](int32_t position) {
        const QRect r = view.tokenRect(position);
        std::vector<int> rows;
        for (int y = static_cast<int>(r.top() * dpr); y <= static_cast<int>(r.bottom() * dpr); ++y)
            if (img.pixelColor(static_cast<int>(r.center().x() * dpr), y) == global) rows.push_back(y);
        return rows;
    };
    const std::vector<int> under = globalRows(0);
    QVERIFY(!under.empty());
    QVERIFY(globalRows(1).empty());
    // A line under the text: below the baseline.
    const QFontMetricsF fm(view.font());
    QVERIFY(under.front() >= static_cast<int>((view.tokenRect(0).top() + fm.ascent()) * dpr));
}

QTEST_MAIN(CacheviewsTextTest)
#include "cacheviews_text_test.moc"
