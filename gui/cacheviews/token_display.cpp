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

std::vector<QString> decodeTokenPieces(const std::vector<std::string>& pieces) {
    std::vector<QString> out;
    out.reserve(pieces.size());
    std::string pending;  // bytes of a sequence not yet complete
    for (const std::string& piece : pieces) {
        pending += piece;
        const size_t done = completePrefix(pending);
        out.push_back(QString::fromUtf8(pending.data(), static_cast<qsizetype>(done)));
        pending.erase(0, done);
    }
    // A sequence cut off at the end: show its bytes with the last token.
    if (!pending.empty() && !out.empty()) out.back() += QString::fromUtf8(pending.data(), static_cast<qsizetype>(pending.size()));
    return out;
}

}  // namespace kvscope::gui
