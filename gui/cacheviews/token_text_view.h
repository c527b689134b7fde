// The generated text (DESIGN.md §3): every token of the session as a box in a
// wrapped flow, coloured by residency in the selected layer's cache or by the
// divergence of its step from the full-cache reference; a click on a token
// reports its position (the lead toggles its pin). Laid out once per
// setTokens / width change; painting and hit tests touch the visible lines
// only, so 4,000 tokens stay cheap.
#pragma once

#include <QAbstractScrollArea>
#include <QColor>
#include <QFont>
#include <QRectF>
#include <QString>

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

    // Shows `tokens` in order. Keeps the view at the bottom when it was there
    // (generation follows the newest token).
    void setTokens(const std::vector<TokenCell>& tokens);
    void setColoring(TokenColoring c);
    TokenColoring coloring() const { return coloring_; }
    void clear();
    QString plainText() const;  // the concatenated token texts as shown (real spaces and newlines)

    // The box of the token at `position` in viewport() coordinates (its first
    // line when it wraps); empty if no such token. Clicks go to viewport().
    QRect tokenRect(int32_t position) const;
    // The colours a token is drawn with under the current colouring (tests, legends).
    QColor tokenBackground(int32_t position) const;
    QColor tokenForeground(int32_t position) const;

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

    void relayout();
    void updateLegend();
    void updateScrollBar();
    int32_t tokenAt(QPoint viewport_pos) const;  // index into tokens_, -1 if none
    QColor background(const TokenCell& t) const;
    QColor foreground(const TokenCell& t) const;
    QString tooltipFor(int32_t index) const;

    std::vector<TokenCell> tokens_;
    std::vector<QString> shown_;                        // [tokens] decoded text of each token
    std::unordered_map<int32_t, int32_t> index_of_;     // position -> index into tokens_
    std::vector<Fragment> fragments_;                   // in reading order
    std::vector<int32_t> line_first_;                   // [lines + 1] first fragment of each line (+ end)
    std::vector<int32_t> first_fragment_;               // [tokens] first fragment of each token
    qreal line_height_ = 0;
    int layout_width_ = -1;
    TokenColoring coloring_ = TokenColoring::Residency;
    QFont prompt_font_;                                 // italic: prompt tokens
    QLabel* legend_ = nullptr;
};

}  // namespace kvscope::gui
