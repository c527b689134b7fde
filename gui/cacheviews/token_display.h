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

// Decodes a sequence of token pieces to one QString per piece such that the
// concatenation equals QString::fromUtf8 of the concatenated bytes: bytes of a
// UTF-8 sequence split across tokens are shown with the token that completes
// it (earlier tokens of the sequence show ""). Bytes that never complete a
// sequence become U+FFFD, as fromUtf8 does. Result: [pieces.size()].
std::vector<QString> decodeTokenPieces(const std::vector<std::string>& pieces);

}  // namespace kvscope::gui
