// TokenTextView with a real session's tokens, residency and divergence.
#include <QScrollBar>
#include <QSignalSpy>
#include <QtTest>

#include <algorithm>
#include <cmath>

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
    void fourThousandTokensStayCheap();
    void utf8SplitAcrossTokensIsShownWhole();
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
    // Divergence: the shade grows with KL(full || policy) of the step that produced the token.
    view.setColoring(TokenColoring::Divergence);
    const TokenCell* lo = nullptr;
    const TokenCell* hi = nullptr;
    for (const TokenCell& c : cells) {
        if (!c.held || std::isnan(c.divergence)) continue;
        if (lo == nullptr || c.divergence < lo->divergence) lo = &c;
        if (hi == nullptr || c.divergence > hi->divergence) hi = &c;
    }
    QVERIFY(lo != nullptr && hi != nullptr);
    if (hi->divergence > lo->divergence + 0.05)
        QVERIFY(view.tokenBackground(hi->position).green() < view.tokenBackground(lo->position).green());
    // A prompt token has no divergence: white when held, greyed when evicted.
    QCOMPARE(view.tokenBackground(pinned), QColor(255, 255, 255));
}

void CacheviewsTextTest::fourThousandTokensStayCheap() {
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

QTEST_MAIN(CacheviewsTextTest)
#include "cacheviews_text_test.moc"
