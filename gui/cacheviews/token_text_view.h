// The generated text (DESIGN.md §3): every token of the session as a box in a
// wrapped flow, coloured by residency in the selected layer's cache or by the
// divergence of its step from the full-cache reference; a click on a token
// reports its position (the lead toggles its pin). setTokens re-decodes and
// re-lays out only from the first token whose text changed (appending one
// token lays out one token; colour-only changes lay out none); a width or
// font change lays out everything. Painting and hit tests touch the visible
// lines only.
#pragma once

#include <QAbstractScrollArea>
#include <QColor>
#include <QFont>
#include <QRectF>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "kv/kv_policy.h"

class QLabel;

namespace kvscope::gui {

struct TokenCell {
    int32_t position = 0;
    std::string text;            // token piece (may contain spaces/newlines/special tokens, or part of a UTF-8 sequence)
    bool prompt = false;
    bool held = true;            // held by the selected layer at the shown step
    bool pinned = false;         // pinned as a global token
    SlotRole role = SlotRole::Window;
    double divergence = std::numeric_limits<double>::quiet_NaN();  // per generated token: KL(full || policy); NaN = none
    bool top1_agrees = true;
};

enum class TokenColoring { Residency, Divergence };

class TokenTextView : public QAbstractScrollArea {
    Q_OBJECT
public:
    explicit TokenTextView(QWidget* parent = nullptr);

    // Shows `tokens` in order. Follows the newest token (keeps the view at the
    // bottom) unless the person scrolled away from the bottom; scrolling back
    // down follows again. Tokens that keep their position,
    // text and prompt flag from the previous call keep their layout; the
    // result is the same as a fresh view given `tokens` at once.
    void setTokens(const std::vector<TokenCell>& tokens);
    void setColoring(TokenColoring c);
    TokenColoring coloring() const { return coloring_; }
    void clear();
    bool following() const { return follow_; }  // the view keeps to the newest token
    // What a click on a token does, said in its tooltip: pin or unpin it when
    // pinning is on, else `why_not` (e.g. "pinning needs the global policy").
    void setPinning(bool enabled, const QString& why_not = {});
    QString plainText() const;  // the concatenated token texts as shown (real spaces and newlines)

    // The box of the token at `position` in viewport() coordinates (its first
    // line when it wraps); empty if no such token. Clicks go to viewport().
    QRect tokenRect(int32_t position) const;
    // The pieces of the token's text as drawn, one per line it occupies
    // (tabs widened, "↵" for a newline; a token wider than the view is cut at
    // grapheme boundaries); empty if no such token.
    QStringList tokenFragments(int32_t position) const;
    // The colours a token is drawn with under the current colouring (tests, legends).
    QColor tokenBackground(int32_t position) const;
    QColor tokenForeground(int32_t position) const;

    // How many tokens have been laid out since construction (the cost of
    // setTokens / resizes; for tests and profiling).
    int64_t tokensLaidOut() const { return tokens_laid_out_; }

    // KL (nats) at which the divergence shade saturates.
    static constexpr double kDivergenceFullScale = 1.0;

signals:
    void tokenClicked(int32_t position);  // the lead toggles the pin

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    bool viewportEvent(QEvent* event) override;
    void changeEvent(QEvent* event) override;

private:
    // A run of one token's text on one line (a token with newlines, or one
    // wider than the view, has several).
    struct Fragment {
        int32_t token = 0;       // index into tokens_
        QRectF rect;             // content coordinates (before scrolling)
        QString text;            // as drawn
        bool newline_mark = false;  // the "↵" drawn where the token has a newline
    };

    // Where the next fragment goes.
    struct Cursor {
        qreal x = 0;
        int32_t line = 0;
    };

    void relayout() { relayoutFrom(0); }
    // Lays out tokens [first, end) after the kept layout of tokens [0, first)
    // (everything when the width changed since the last layout).
    void relayoutFrom(size_t first);
    void updateLegend();
    void updateScrollBar();
    int32_t tokenAt(QPoint viewport_pos) const;  // index into tokens_, -1 if none
    QColor background(const TokenCell& t) const;
    QColor foreground(const TokenCell& t) const;
    QString tooltipFor(int32_t index) const;

    std::vector<TokenCell> tokens_;
    std::vector<QString> shown_;                        // [tokens] decoded text of each token
    std::vector<uint8_t> clean_before_{1};              // [tokens + 1] 1: the decoder holds no bytes back before token i
    std::unordered_map<int32_t, int32_t> index_of_;     // position -> index into tokens_
    std::vector<Fragment> fragments_;                   // in reading order
    std::vector<int32_t> line_first_{0};                // [lines + 1] first fragment of each line (+ end)
    std::vector<int32_t> first_fragment_;               // [tokens] first fragment of each token
    std::vector<Cursor> cursor_before_;                 // [tokens] layout cursor before each token
    Cursor layout_end_;                                 // layout cursor after the last token
    qreal line_height_ = 0;
    int layout_width_ = -1;
    int64_t tokens_laid_out_ = 0;
    TokenColoring coloring_ = TokenColoring::Residency;
    bool follow_ = true;          // keep the newest token in view
    bool pinning_ = true;         // a click pins or unpins
    QString pinning_off_reason_;  // said in the tooltip when pinning is off
    QFont prompt_font_;                                 // italic: prompt tokens
    QLabel* legend_ = nullptr;
};

}  // namespace kvscope::gui
