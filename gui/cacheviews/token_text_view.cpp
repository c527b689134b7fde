#include "cacheviews/token_text_view.h"

#include <QFontMetricsF>
#include <QHelpEvent>
#include <QLabel>
#include <QMouseEvent>
#include <QPaintEvent>
#include <QPainter>
#include <QScrollBar>
#include <QTextBoundaryFinder>
#include <QToolTip>

#include <algorithm>
#include <cmath>

#include "cacheviews/role_colors.h"
#include "cacheviews/token_display.h"

namespace kvscope::gui {

namespace {

constexpr qreal kPad = 6;        // dip around the text
constexpr qreal kLineGap = 4;    // dip between lines
constexpr qreal kMinTokenW = 4;  // dip: an empty token still gets a clickable box
constexpr int kTabSpaces = 4;

const QColor kPromptText{30, 60, 130};
const QColor kGeneratedText{0, 0, 0};
const QColor kEvictedText{125, 125, 125};
const QColor kEvictedBackground{250, 212, 208};  // pale red
const QColor kEvictedGrey{175, 175, 175};        // mixed into the divergence shade of evicted tokens
const QColor kDivergenceHigh{213, 94, 0};         // vermillion at kDivergenceFullScale

QColor mix(const QColor& a, const QColor& b, double t) {  // (1-t)·a + t·b
    const auto ch = [t](int x, int y) { return static_cast<int>(std::lround(x + (y - x) * t)); };
    return {ch(a.red(), b.red()), ch(a.green(), b.green()), ch(a.blue(), b.blue())};
}

// Text as drawn inside one line: tabs widened, other control characters visible.
QString drawable(const QString& s) {
    QString out;
    for (const QChar c : s) {
        if (c == u'\t')
            out += QString(kTabSpaces, QLatin1Char(' '));
        else if (c == u'\r')
            out += QChar(0x240D);
        else
            out += c;
    }
    return out;
}

// Inputs of a token's layout (and of index_of_): unchanged ones keep their fragments.
bool sameLayoutInputs(const TokenCell& a, const TokenCell& b) {
    return a.position == b.position && a.prompt == b.prompt && a.text == b.text;
}

// The last grapheme boundary of `finder`'s text at or before `pos`, but at
// least the end of the first grapheme after `start` (a cut never splits a
// surrogate pair or a combining sequence).
qsizetype graphemeCut(QTextBoundaryFinder& finder, qsizetype start, qsizetype pos) {
    finder.setPosition(pos);
    qsizetype cut = finder.isAtBoundary() ? pos : finder.toPreviousBoundary();
    if (cut <= start) {
        finder.setPosition(start);
        cut = finder.toNextBoundary();
    }
    return cut;
}

QString htmlSwatch(const QColor& bg, const QString& text, const QString& extra_style = {}) {
    return QStringLiteral("<span style=\"background-color:%1;%3\">&nbsp;%2&nbsp;</span> ")
        .arg(bg.name(), text.toHtmlEscaped(), extra_style);
}

}  // namespace

TokenTextView::TokenTextView(QWidget* parent) : QAbstractScrollArea(parent) {
    setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);  // the text wraps
    setVerticalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    viewport()->setAutoFillBackground(false);
    viewport()->setToolTip(tr("Click a token to pin or unpin it as a global token."));
    // The person's own scrolling decides whether the view follows new tokens:
    // away from the bottom it stays put, back at the bottom it follows again.
    connect(verticalScrollBar(), &QScrollBar::actionTriggered, this, [this] {
        const QScrollBar* bar = verticalScrollBar();
        follow_ = bar->sliderPosition() >= bar->maximum();
    });
    prompt_font_ = font();
    prompt_font_.setItalic(true);
    legend_ = new QLabel(this);
    legend_->setTextFormat(Qt::RichText);
    legend_->setContentsMargins(4, 2, 4, 2);
    legend_->setToolTip(tr("Colours of the token text"));
    updateLegend();
}

void TokenTextView::clear() {
    tokens_.clear();
    follow_ = true;  // a new text starts followed
    shown_.clear();
    clean_before_.assign(1, 1);
    index_of_.clear();
    fragments_.clear();
    line_first_.assign(1, 0);
    first_fragment_.clear();
    cursor_before_.clear();
    layout_width_ = -1;
    updateScrollBar();
    viewport()->update();
}

void TokenTextView::setTokens(const std::vector<TokenCell>& tokens) {
    QScrollBar* bar = verticalScrollBar();
    const size_t old_n = tokens_.size(), n = tokens.size();
    // The unchanged prefix keeps its decoding and layout; only its colours and flags are copied.
    size_t same = 0;
    while (same < old_n && same < n && sameLayoutInputs(tokens_[same], tokens[same])) ++same;
    for (size_t i = 0; i < same; ++i) {
        TokenCell& t = tokens_[i];
        const TokenCell& u = tokens[i];
        t.held = u.held;
        t.pinned = u.pinned;
        t.role = u.role;
        t.divergence = u.divergence;
        t.top1_agrees = u.top1_agrees;
    }
    for (size_t i = same; i < old_n; ++i) index_of_.erase(tokens_[i].position);
    tokens_.resize(same);
    tokens_.insert(tokens_.end(), tokens.begin() + static_cast<std::ptrdiff_t>(same), tokens.end());
    for (size_t i = same; i < n; ++i) index_of_[tokens_[i].position] = static_cast<int32_t>(i);

    // Decoding restarts at the last token before which no bytes were held back
    // (the bytes of a split character may start a few tokens before `same`).
    size_t restart = same;
    while (restart > 0 && clean_before_[restart] == 0) --restart;
    const std::vector<QString> old_shown(shown_.begin() + static_cast<std::ptrdiff_t>(restart), shown_.end());
    shown_.resize(restart);
    clean_before_.resize(restart + 1);
    TokenPieceDecoder decoder;
    for (size_t i = restart; i < n; ++i) {
        shown_.push_back(decoder.push(tokens_[i].text));
        clean_before_.push_back(decoder.pending() ? 0 : 1);
    }
    if (decoder.pending() && n > 0) shown_.back() += decoder.finish();  // a character cut off at the end
    // Layout restarts at the first token whose shown text changed (a token
    // before `same` changes when it ended the old text with a cut-off character).
    size_t changed = same;
    for (size_t i = restart; i < same; ++i)
        if (shown_[i] != old_shown[i - restart]) {
            changed = i;
            break;
        }
    if (changed < std::max(n, old_n)) relayoutFrom(changed);
    if (follow_) bar->setValue(bar->maximum());
    viewport()->update();
}

void TokenTextView::setColoring(TokenColoring c) {
    if (c == coloring_) return;
    coloring_ = c;
    updateLegend();
    viewport()->update();  // colours only: the layout stays
}

QString TokenTextView::plainText() const {
    QString s;
    for (const QString& t : shown_) s += t;
    return s;
}

void TokenTextView::updateLegend() {
    QString html;
    if (coloring_ == TokenColoring::Residency) {
        html += htmlSwatch(mix(kViewBackground, roleColor(SlotRole::Window), 0.3), tr("held"));
        html += htmlSwatch(kEvictedBackground, tr("evicted"), QStringLiteral("color:#7d7d7d;text-decoration:line-through;"));
        html += htmlSwatch(mix(kViewBackground, roleColor(SlotRole::Sink), 0.6), tr("sink"));
        html += htmlSwatch(mix(kViewBackground, roleColor(SlotRole::Global), 0.6), tr("global"));
        html += htmlSwatch(mix(kViewBackground, roleColor(SlotRole::HeavyHitter), 0.6), tr("heavy"));
        html += htmlSwatch(kViewBackground, tr("pinned"),
                           QStringLiteral("text-decoration:underline;color:%1;").arg(roleColor(SlotRole::Global).name()));
    } else {
        html += htmlSwatch(kViewBackground, tr("KL 0"));
        html += htmlSwatch(mix(kViewBackground, kDivergenceHigh, 0.5), tr("KL %1").arg(kDivergenceFullScale / 2));
        html += htmlSwatch(kDivergenceHigh, tr("KL ≥ %1").arg(kDivergenceFullScale));
        html += htmlSwatch(kEvictedGrey, tr("evicted"), QStringLiteral("color:#7d7d7d;text-decoration:line-through;"));
        html += QStringLiteral("<span style=\"color:#c80000\">◥</span> ") + tr("top-1 differs").toHtmlEscaped() + QStringLiteral(" ");
    }
    html += QStringLiteral("<i style=\"color:%1\">%2</i>").arg(kPromptText.name(), tr("prompt").toHtmlEscaped());
    legend_->setText(html);
    const int h = legend_->sizeHint().height();
    setViewportMargins(0, h, 0, 0);
    legend_->setGeometry(frameWidth(), frameWidth(), width() - 2 * frameWidth(), h);
}

void TokenTextView::resizeEvent(QResizeEvent* event) {
    QAbstractScrollArea::resizeEvent(event);
    legend_->setGeometry(frameWidth(), frameWidth(), width() - 2 * frameWidth(), legend_->sizeHint().height());
    if (viewport()->width() != layout_width_) relayout();
    updateScrollBar();
    if (follow_) verticalScrollBar()->setValue(verticalScrollBar()->maximum());  // a new width wraps anew
}

void TokenTextView::changeEvent(QEvent* event) {
    QAbstractScrollArea::changeEvent(event);
    if (event->type() == QEvent::FontChange) {
        prompt_font_ = font();
        prompt_font_.setItalic(true);
        layout_width_ = -1;
        relayout();
    }
}

void TokenTextView::relayoutFrom(size_t first) {
    const QFontMetricsF fm(font()), fm_prompt(prompt_font_);
    if (layout_width_ != viewport()->width() || first > cursor_before_.size()) first = 0;
    layout_width_ = viewport()->width();
    const qreal right = std::max<qreal>(layout_width_ - kPad, kPad + 40);
    line_height_ = std::ceil(std::max(fm.height(), fm_prompt.height()) + kLineGap);
    Cursor cur{kPad, 0};
    if (first == 0) {
        fragments_.clear();
        line_first_.assign(1, 0);
        first_fragment_.clear();
        cursor_before_.clear();
    } else {  // keep tokens [0, first): drop what follows, continue from where `first` began
        cur = first < cursor_before_.size() ? cursor_before_[first] : layout_end_;
        if (first < first_fragment_.size()) fragments_.resize(static_cast<size_t>(first_fragment_[first]));
        line_first_.resize(static_cast<size_t>(cur.line) + 1);  // also drops the end marker
        first_fragment_.resize(first);
        cursor_before_.resize(first);
    }
    const auto newLine = [&] {
        ++cur.line;
        cur.x = kPad;
        line_first_.push_back(static_cast<int32_t>(fragments_.size()));
    };
    const auto place = [&](int32_t token, const QString& text, qreal w, bool mark) {
        if (cur.x + w > right && cur.x > kPad) newLine();
        fragments_.push_back({token, QRectF(cur.x, kPad + cur.line * line_height_, w, line_height_ - kLineGap), text, mark});
        cur.x += w;
    };
    const qreal line_w = right - kPad;
    for (size_t i = first; i < tokens_.size(); ++i) {
        const auto t = static_cast<int32_t>(i);
        const QFontMetricsF& m = tokens_[i].prompt ? fm_prompt : fm;
        cursor_before_.push_back(cur);
        first_fragment_.push_back(static_cast<int32_t>(fragments_.size()));
        const QStringList parts = shown_[i].split(QLatin1Char('\n'));
        for (qsizetype j = 0; j < parts.size(); ++j) {
            const QString part = drawable(parts[j]);
            const qreal w = m.horizontalAdvance(part);
            if (w <= line_w) {
                if (!part.isEmpty()) place(t, part, w, false);
            } else {
                // Wider than a line: cut at grapheme boundaries into pieces
                // that fit, each cut first estimated from the average
                // character width, so a long token costs O(length).
                QTextBoundaryFinder finder(QTextBoundaryFinder::Grapheme, part);
                const auto estimate = static_cast<qsizetype>(std::max(1.0, std::floor(line_w / std::max(1.0, m.averageCharWidth()))));
                qsizetype start = 0;
                while (start < part.size()) {
                    qsizetype cut = graphemeCut(finder, start, std::min(part.size(), start + estimate));
                    QString piece = part.mid(start, cut - start);
                    qreal pw = m.horizontalAdvance(piece);
                    while (pw > line_w) {
                        const qsizetype smaller = graphemeCut(finder, start, start + (cut - start) * 3 / 4);
                        if (smaller >= cut) break;  // one grapheme wider than the line: it goes alone
                        cut = smaller;
                        piece = part.mid(start, cut - start);
                        pw = m.horizontalAdvance(piece);
                    }
                    place(t, piece, pw, false);
                    start = cut;
                }
            }
            if (j + 1 < parts.size()) {  // a newline: show it, then break the line
                const QString mark(QChar(0x21B5));
                place(t, mark, m.horizontalAdvance(mark), true);
                newLine();
            }
        }
        if (static_cast<int32_t>(fragments_.size()) == first_fragment_[i]) place(t, QString(), kMinTokenW, false);
        ++tokens_laid_out_;
    }
    layout_end_ = cur;
    line_first_.push_back(static_cast<int32_t>(fragments_.size()));
    updateScrollBar();
}

void TokenTextView::updateScrollBar() {
    const int lines = std::max<int>(0, static_cast<int>(line_first_.size()) - 1);
    const int content_h = static_cast<int>(std::ceil(2 * kPad + lines * line_height_));
    QScrollBar* bar = verticalScrollBar();
    bar->setPageStep(viewport()->height());
    bar->setSingleStep(static_cast<int>(line_height_));
    bar->setRange(0, std::max(0, content_h - viewport()->height()));
}

QColor TokenTextView::background(const TokenCell& t) const {
    if (coloring_ == TokenColoring::Residency) {
        if (!t.held) return kEvictedBackground;
        return mix(kViewBackground, roleColor(t.role), t.role == SlotRole::Window ? 0.3 : 0.6);
    }
    QColor shade = kViewBackground;
    if (!std::isnan(t.divergence))
        shade = mix(kViewBackground, kDivergenceHigh, std::clamp(t.divergence / kDivergenceFullScale, 0.0, 1.0));
    return t.held ? shade : mix(shade, kEvictedGrey, 0.7);
}

QColor TokenTextView::foreground(const TokenCell& t) const {
    if (!t.held) return kEvictedText;
    return t.prompt ? kPromptText : kGeneratedText;
}

QColor TokenTextView::tokenBackground(int32_t position) const {
    const auto it = index_of_.find(position);
    return it == index_of_.end() ? QColor() : background(tokens_[static_cast<size_t>(it->second)]);
}

QColor TokenTextView::tokenForeground(int32_t position) const {
    const auto it = index_of_.find(position);
    return it == index_of_.end() ? QColor() : foreground(tokens_[static_cast<size_t>(it->second)]);
}

QRect TokenTextView::tokenRect(int32_t position) const {
    const auto it = index_of_.find(position);
    if (it == index_of_.end()) return {};
    const Fragment& f = fragments_[static_cast<size_t>(first_fragment_[static_cast<size_t>(it->second)])];
    return f.rect.translated(0, -verticalScrollBar()->value()).toAlignedRect();
}

QStringList TokenTextView::tokenFragments(int32_t position) const {
    const auto it = index_of_.find(position);
    if (it == index_of_.end()) return {};
    const auto i = static_cast<size_t>(it->second);
    const size_t end = i + 1 < first_fragment_.size() ? static_cast<size_t>(first_fragment_[i + 1]) : fragments_.size();
    QStringList out;
    for (size_t k = static_cast<size_t>(first_fragment_[i]); k < end; ++k) out << fragments_[k].text;
    return out;
}

void TokenTextView::paintEvent(QPaintEvent* event) {
    QPainter painter(viewport());
    painter.fillRect(event->rect(), kViewBackground);
    if (tokens_.empty()) {
        painter.setPen(kLabelColor);
        painter.drawText(QRectF(kPad, kPad, viewport()->width() - 2 * kPad, line_height_ + 20), Qt::AlignLeft | Qt::AlignTop,
                         tr("No text yet."));
        return;
    }
    const int scroll = verticalScrollBar()->value();
    const int lines = static_cast<int>(line_first_.size()) - 1;
    // Only the lines inside the exposed rectangle.
    const int first = std::clamp(static_cast<int>((event->rect().top() + scroll - kPad) / line_height_), 0, lines);
    const int last = std::clamp(static_cast<int>((event->rect().bottom() + scroll - kPad) / line_height_) + 1, 0, lines);
    painter.translate(0, -scroll);
    const QFont base = font();
    for (int32_t k = line_first_[static_cast<size_t>(first)]; k < line_first_[static_cast<size_t>(last)]; ++k) {
        const Fragment& f = fragments_[static_cast<size_t>(k)];
        const TokenCell& t = tokens_[static_cast<size_t>(f.token)];
        painter.fillRect(f.rect, background(t));
        QFont font = t.prompt ? prompt_font_ : base;
        font.setStrikeOut(!t.held && !f.newline_mark);
        painter.setFont(font);
        painter.setPen(f.newline_mark ? kEvictedText : foreground(t));
        painter.drawText(f.rect, Qt::AlignLeft | Qt::AlignVCenter | Qt::TextDontClip, f.text);
        if (t.pinned && !f.newline_mark) {  // pinned: underlined in the global colour (as the legend shows)
            const QFontMetricsF fm(font);
            const qreal baseline = f.rect.top() + (f.rect.height() - fm.height()) / 2 + fm.ascent();
            const qreal y = std::min(baseline + std::max<qreal>(1, fm.underlinePos()), f.rect.bottom() - 2);
            painter.fillRect(QRectF(f.rect.left(), y, f.rect.width(), 2), roleColor(SlotRole::Global));
        }
        if (coloring_ == TokenColoring::Divergence && !t.top1_agrees && k == first_fragment_[static_cast<size_t>(f.token)]) {
            // A red corner where the full cache would have picked another token.
            const QPointF corner = f.rect.topRight();
            const QPointF tri[3] = {corner, corner - QPointF(6, 0), corner + QPointF(0, 6)};
            painter.setPen(Qt::NoPen);
            painter.setBrush(kEvictedColor);
            painter.drawPolygon(tri, 3);
            painter.setBrush(Qt::NoBrush);
        }
    }
}

int32_t TokenTextView::tokenAt(QPoint viewport_pos) const {
    const qreal y = viewport_pos.y() + verticalScrollBar()->value() - kPad;
    if (y < 0 || line_height_ <= 0) return -1;
    const auto line = static_cast<size_t>(y / line_height_);
    if (line + 1 >= line_first_.size()) return -1;
    for (int32_t k = line_first_[line]; k < line_first_[line + 1]; ++k) {
        const Fragment& f = fragments_[static_cast<size_t>(k)];
        if (f.rect.left() <= viewport_pos.x() && viewport_pos.x() < f.rect.right()) return f.token;
    }
    return -1;
}

void TokenTextView::mousePressEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) return QAbstractScrollArea::mousePressEvent(event);
    const int32_t i = tokenAt(event->position().toPoint());
    if (i >= 0) emit tokenClicked(tokens_[static_cast<size_t>(i)].position);
}

void TokenTextView::mouseReleaseEvent(QMouseEvent* event) {
    event->setAccepted(event->button() == Qt::LeftButton);  // the press did the work
}

QString TokenTextView::tooltipFor(int32_t index) const {
    const TokenCell& t = tokens_[static_cast<size_t>(index)];
    QString s = tr("position %1 (%2): “%3”")
                    .arg(t.position)
                    .arg(t.prompt ? tr("prompt") : tr("generated"))
                    .arg(visibleTokenLabel(shown_[static_cast<size_t>(index)]));
    s += t.held ? tr("\nheld in the selected layer as %1").arg(roleLabel(t.role)) : tr("\nevicted from the selected layer");
    if (t.pinned) s += tr(", pinned");
    if (!std::isnan(t.divergence))
        s += tr("\nKL(full ‖ policy) = %1, top-1 %2").arg(t.divergence, 0, 'g', 4).arg(t.top1_agrees ? tr("agrees") : tr("differs"));
    if (pinning_) s += tr("\nclick to %1 it").arg(t.pinned ? tr("unpin") : tr("pin"));
    else if (!pinning_off_reason_.isEmpty()) s += tr("\n%1").arg(pinning_off_reason_);
    return s;
}

void TokenTextView::setPinning(bool enabled, const QString& why_not) {
    pinning_ = enabled;
    pinning_off_reason_ = why_not;
    viewport()->setToolTip(enabled ? tr("Click a token to pin or unpin it as a global token.") : why_not);
}

bool TokenTextView::viewportEvent(QEvent* event) {
    if (event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        const int32_t i = tokenAt(help->pos());
        if (i >= 0)
            QToolTip::showText(help->globalPos(), tooltipFor(i), viewport());
        else
            QToolTip::hideText();
        return true;
    }
    return QAbstractScrollArea::viewportEvent(event);
}

}  // namespace kvscope::gui
