#include "cacheviews/token_text_view.h"

#include <QFontMetricsF>
#include <QHelpEvent>
#include <QLabel>
#include <QMouseEvent>
#include <QPaintEvent>
#include <QPainter>
#include <QScrollBar>
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
    shown_.clear();
    index_of_.clear();
    fragments_.clear();
    line_first_.assign(1, 0);
    first_fragment_.clear();
    layout_width_ = -1;
    updateScrollBar();
    viewport()->update();
}

void TokenTextView::setTokens(const std::vector<TokenCell>& tokens) {
    QScrollBar* bar = verticalScrollBar();
    const bool at_bottom = bar->value() >= bar->maximum();
    tokens_ = tokens;
    std::vector<std::string> pieces;
    pieces.reserve(tokens_.size());
    index_of_.clear();
    for (size_t i = 0; i < tokens_.size(); ++i) {
        pieces.push_back(tokens_[i].text);
        index_of_[tokens_[i].position] = static_cast<int32_t>(i);
    }
    shown_ = decodeTokenPieces(pieces);
    layout_width_ = -1;
    relayout();
    if (at_bottom) bar->setValue(bar->maximum());
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
        html += htmlSwatch(kViewBackground, tr("pinned"), QStringLiteral("text-decoration:underline;"));
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

void TokenTextView::relayout() {
    const QFontMetricsF fm(font()), fm_prompt(prompt_font_);
    layout_width_ = viewport()->width();
    const qreal right = std::max<qreal>(layout_width_ - kPad, kPad + 40);
    line_height_ = std::ceil(std::max(fm.height(), fm_prompt.height()) + kLineGap);
    fragments_.clear();
    line_first_.assign(1, 0);
    first_fragment_.assign(tokens_.size(), 0);
    qreal x = kPad;
    int32_t line = 0;
    const auto newLine = [&] {
        ++line;
        x = kPad;
        line_first_.push_back(static_cast<int32_t>(fragments_.size()));
    };
    const auto place = [&](int32_t token, const QString& text, qreal w, bool mark) {
        if (x + w > right && x > kPad) newLine();
        fragments_.push_back({token, QRectF(x, kPad + line * line_height_, w, line_height_ - kLineGap), text, mark});
        x += w;
    };
    for (size_t i = 0; i < tokens_.size(); ++i) {
        const auto t = static_cast<int32_t>(i);
        const QFontMetricsF& m = tokens_[i].prompt ? fm_prompt : fm;
        first_fragment_[i] = static_cast<int32_t>(fragments_.size());
        const QStringList parts = shown_[i].split(QLatin1Char('\n'));
        for (qsizetype j = 0; j < parts.size(); ++j) {
            QString part = drawable(parts[j]);
            // A run wider than the view is cut into pieces that fit.
            while (!part.isEmpty()) {
                qsizetype n = part.size();
                while (n > 1 && m.horizontalAdvance(part.left(n)) > right - kPad) n = n * 3 / 4;
                const QString piece = part.left(n);
                place(t, piece, m.horizontalAdvance(piece), false);
                part.remove(0, n);
            }
            if (j + 1 < parts.size()) {  // a newline: show it, then break the line
                const QString mark(QChar(0x21B5));
                place(t, mark, m.horizontalAdvance(mark), true);
                newLine();
            }
        }
        if (static_cast<int32_t>(fragments_.size()) == first_fragment_[i]) place(t, QString(), kMinTokenW, false);
    }
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
        if (t.pinned)  // pinned: a bar in the global colour along the bottom
            painter.fillRect(QRectF(f.rect.left(), f.rect.bottom() - 2, f.rect.width(), 2), roleColor(SlotRole::Global));
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
    s += tr("\nclick to %1 it").arg(t.pinned ? tr("unpin") : tr("pin"));
    return s;
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
