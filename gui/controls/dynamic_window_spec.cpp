#include "controls/dynamic_window_spec.h"

#include <QStringList>

#include <climits>

namespace kvscope::gui {
namespace {

// A whole number in [0, INT32_MAX], or "full" (= 0) where full_ok. Sets `error` otherwise.
bool parse_count(const QString& raw, bool full_ok, int32_t& out, QString& error) {
    const QString s = raw.trimmed();
    if (full_ok && s.compare(QLatin1String("full"), Qt::CaseInsensitive) == 0) {
        out = 0;
        return true;
    }
    bool ok = false;
    const qlonglong n = s.toLongLong(&ok);
    // toLongLong accepts a sign; a step length or window never has one.
    if (!ok || s.startsWith(QLatin1Char('+')) || s.startsWith(QLatin1Char('-')) || n < 0 || n > INT32_MAX) {
        error = QStringLiteral("'%1' is not a whole number >= 0%2").arg(s, full_ok ? QStringLiteral(" or 'full'") : QString());
        return false;
    }
    out = static_cast<int32_t>(n);
    return true;
}

}  // namespace

DynamicWindowParse parse_dynamic_window_spec(const QString& text) {
    DynamicWindowParse result;
    if (text.trimmed().isEmpty()) return result;
    const QString usage = QStringLiteral(
        "dynamic window: use LENGTH:WINDOW steps separated by commas (WINDOW a number or 'full'; the last may be WINDOW "
        "alone), e.g. 1024:full, 8192:2048, 4096");
    const QStringList items = text.split(QLatin1Char(','));
    for (qsizetype i = 0; i < items.size(); ++i) {
        const QStringList parts = items[i].split(QLatin1Char(':'));
        const bool last = i + 1 == items.size();
        QString why;
        DynamicWindowStep step;
        if (parts.size() == 1 && last) {
            step.below = INT32_MAX;
            if (!parse_count(parts[0], true, step.window, why)) {
                result.error = QStringLiteral("dynamic window step %1: %2").arg(i + 1).arg(why);
                break;
            }
        } else if (parts.size() == 2) {
            if (!parse_count(parts[0], false, step.below, why) || !parse_count(parts[1], true, step.window, why)) {
                result.error = QStringLiteral("dynamic window step %1: %2").arg(i + 1).arg(why);
                break;
            }
        } else {
            result.error = QStringLiteral("%1; got '%2'").arg(usage, items[i].trimmed());
            break;
        }
        result.steps.push_back(step);
    }
    if (!result.ok()) result.steps.clear();
    return result;
}

QString format_dynamic_window_spec(const std::vector<DynamicWindowStep>& steps) {
    QStringList items;
    for (const DynamicWindowStep& step : steps) {
        const QString window = step.window == 0 ? QStringLiteral("full") : QString::number(step.window);
        items << (step.below == INT32_MAX ? window : QStringLiteral("%1:%2").arg(step.below).arg(window));
    }
    return items.join(QStringLiteral(", "));
}

}  // namespace kvscope::gui
