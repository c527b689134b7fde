// Turning token pieces (raw bytes, possibly part of a UTF-8 sequence, with
// spaces, newlines and control-token texts) into text for display.
#pragma once

#include <QString>

#include <string>
#include <vector>

namespace kvscope::gui {

// A one-line label for a token inside a small box: newline -> "↵", tab -> "⇥",
// carriage return -> "␍", space -> "·", so whitespace-only tokens stay visible.
QString visibleTokenLabel(const QString& text);

// Decodes token pieces one at a time, as decodeTokenPieces does for a whole
// sequence: bytes of a UTF-8 sequence split across tokens are held back until
// the token that completes it.
class TokenPieceDecoder {
public:
    // The text `piece` completes (with the bytes held back from earlier pieces).
    QString push(const std::string& piece);
    // Whether bytes of an unfinished sequence are held back.
    bool pending() const { return !pending_.empty(); }
    // The held-back bytes as QString::fromUtf8 gives them (U+FFFD), and a fresh start.
    QString finish();

private:
    std::string pending_;  // bytes of a sequence not yet complete (at most 3)
};

// Decodes a sequence of token pieces to one QString per piece such that the
// concatenation equals QString::fromUtf8 of the concatenated bytes: bytes of a
// UTF-8 sequence split across tokens are shown with the token that completes
// it (earlier tokens of the sequence show ""). Bytes that never complete a
// sequence become U+FFFD, as fromUtf8 does. Result: [pieces.size()].
std::vector<QString> decodeTokenPieces(const std::vector<std::string>& pieces);

// The text of ONE token piece seen on its own (e.g. a cache slot's label):
// complete UTF-8 characters as text, every other byte (part of a character
// split across tokens, or invalid) as "\xE4", so no byte becomes U+FFFD.
QString tokenPieceLabel(const std::string& piece);

}  // namespace kvscope::gui
