// Comma-separated whole numbers as typed in the sweep grid ("16, 32, 64").
#pragma once

#include <QString>

#include <cstdint>
#include <vector>

namespace kvscope::gui {

struct IntListParse {
    std::vector<int32_t> values;  // in the order typed; empty on error
    QString error;                // "" when the text parsed
};

// Items separated by commas (spaces around them ignored). `what` names the
// list in the error ("windows"); every value must be >= min. An empty text is
// an error: a list with nothing in it is never what the user meant to run.
IntListParse parse_int_list(const QString& text, const QString& what, int32_t min);

QString format_int_list(const std::vector<int32_t>& values);  // "16, 32, 64"

}  // namespace kvscope::gui
