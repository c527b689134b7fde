#include "cacheviews/token_display.h"

namespace kvscope::gui {

QString visibleTokenLabel(const QString& text) {
    QString out;
    out.reserve(text.size());
    for (const QChar c : text) {
        switch (c.unicode()) {
            case u'\n': out += QChar(0x21B5); break;  // ↵
            case u'\t': out += QChar(0x21E5); break;  // ⇥
            case u'\r': out += QChar(0x240D); break;  // ␍
            case u' ': out += QChar(0x00B7); break;   // ·
            default: out += c;
        }
    }
    return out;
}

namespace {

// Length of the UTF-8 sequence a lead byte starts (0 for a continuation or invalid byte).
int utf8SequenceLength(unsigned char lead) {
    if (lead < 0x80) return 1;
    if ((lead & 0xE0) == 0xC0) return 2;
    if ((lead & 0xF0) == 0xE0) return 3;
    if ((lead & 0xF8) == 0xF0) return 4;
    return 0;
}

// How many leading bytes of `bytes` end on a sequence boundary: a trailing
// lead byte whose sequence is still incomplete (and its continuations) is
// held back for the next token.
size_t completePrefix(const std::string& bytes) {
    const size_t n = bytes.size();
    // A sequence is at most 4 bytes: look at the last 3 for an unfinished lead.
    for (size_t back = 1; back <= 3 && back <= n; ++back) {
        const auto b = static_cast<unsigned char>(bytes[n - back]);
        if ((b & 0xC0) == 0x80) continue;  // continuation byte: keep looking for its lead
        const int len = utf8SequenceLength(b);
        if (len > static_cast<int>(back)) return n - back;  // incomplete: hold it back
        return n;
    }
    return n;
}

}  // namespace

QString TokenPieceDecoder::push(const std::string& piece) {
    pending_ += piece;
    const size_t done = completePrefix(pending_);
    QString text = QString::fromUtf8(pending_.data(), static_cast<qsizetype>(done));
    pending_.erase(0, done);
    return text;
}

QString TokenPieceDecoder::finish() {
    QString text = QString::fromUtf8(pending_.data(), static_cast<qsizetype>(pending_.size()));
    pending_.clear();
    return text;
}

std::vector<QString> decodeTokenPieces(const std::vector<std::string>& pieces) {
    std::vector<QString> out;
    out.reserve(pieces.size());
    TokenPieceDecoder decoder;
    for (const std::string& piece : pieces) out.push_back(decoder.push(piece));
    // A sequence cut off at the end: show its bytes with the last token.
    if (decoder.pending() && !out.empty()) out.back() += decoder.finish();
    return out;
}

QString tokenPieceLabel(const std::string& piece) {
    QString out;
    const size_t n = piece.size();
    size_t i = 0;
    while (i < n) {
        const auto lead = static_cast<unsigned char>(piece[i]);
        const auto len = static_cast<size_t>(utf8SequenceLength(lead));
        bool whole = len > 0 && i + len <= n;
        for (size_t k = 1; whole && k < len; ++k) whole = (static_cast<unsigned char>(piece[i + k]) & 0xC0) == 0x80;
        if (whole) {
            const QString ch = QString::fromUtf8(piece.data() + i, static_cast<qsizetype>(len));
            // fromUtf8 still refuses overlong forms and surrogates (U+FFFD); a real U+FFFD is EF BF BD.
            const bool real_replacement = len == 3 && piece.compare(i, 3, "\xEF\xBF\xBD") == 0;
            if (!ch.contains(QChar::ReplacementCharacter) || real_replacement) {
                out += ch;
                i += len;
                continue;
            }
        }
        out += QStringLiteral("\\x") + QString::number(lead, 16).toUpper().rightJustified(2, QLatin1Char('0'));
        ++i;
    }
    return out;
}

}  // namespace kvscope::gui
