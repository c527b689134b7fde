#include "plots/int_list_text.h"

#include <QStringList>

#include <limits>

namespace kvscope::gui {

IntListParse parse_int_list(const QString& text, const QString& what, int32_t min) {
    IntListParse out;
    if (text.trimmed().isEmpty()) {
        out.error = QStringLiteral("%1: give at least one number (e.g. \"16, 32\")").arg(what);
        return out;
    }
    for (const QString& raw : text.split(QLatin1Char(','))) {
        const QString item = raw.trimmed();
        bool ok = false;
        const qlonglong v = item.toLongLong(&ok);
        if (!ok || v > std::numeric_limits<int32_t>::max()) {
            out.values.clear();
            out.error = item.isEmpty() ? QStringLiteral("%1: an empty item between commas").arg(what)
                                       : QStringLiteral("%1: \"%2\" is not a whole number").arg(what, item);
            return out;
        }
        if (v < min) {
            out.values.clear();
            out.error = QStringLiteral("%1: %2 is below the smallest allowed, %3").arg(what).arg(v).arg(min);
            return out;
        }
        out.values.push_back(static_cast<int32_t>(v));
    }
    return out;
}

QString format_int_list(const std::vector<int32_t>& values) {
    QStringList items;
    for (int32_t v : values) items << QString::number(v);
    return items.join(QStringLiteral(", "));
}

}  // namespace kvscope::gui
