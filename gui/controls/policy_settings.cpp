#include "controls/policy_settings.h"

#include <QStringList>

#include <cstdint>
#include <limits>

#include "util/error.h"

namespace kvscope::gui {
namespace {

const QString kKind = QStringLiteral("kind");
const QString kWindow = QStringLiteral("window");
const QString kSinks = QStringLiteral("sinks");
const QString kPins = QStringLiteral("pins");
const QString kPinEvery = QStringLiteral("pin_every");
const QString kH2oHeavy = QStringLiteral("h2o_heavy");
const QString kH2oRecent = QStringLiteral("h2o_recent");
const QString kBudget = QStringLiteral("budget");  // absent in settings written before tova: 0
const QString kPinSeparators = QStringLiteral("pin_separators");  // absent in older settings: false
const QString kBudgetPercent = QStringLiteral("budget_percent");  // absent in older settings: 0
const QString kFullEvery = QStringLiteral("full_every");
const QString kDynamic = QStringLiteral("dynamic");
const QString kKvType = QStringLiteral("kv_type");
const QString kPositions = QStringLiteral("positions");

// A whole number in int32 range written in decimal ("-3", "42"); nullopt otherwise.
std::optional<int32_t> parse_int32(const QString& text) {
    bool ok = false;
    const qlonglong n = text.trimmed().toLongLong(&ok, 10);
    if (!ok || n < std::numeric_limits<int32_t>::min() || n > std::numeric_limits<int32_t>::max()) return std::nullopt;
    return static_cast<int32_t>(n);
}

// An integer QVariant (or a string of one: INI and registry backends give
// strings back) within int32. Doubles, bools and lists are malformed.
std::optional<int32_t> int_field(const QVariantMap& map, const QString& key) {
    const auto it = map.constFind(key);
    if (it == map.constEnd()) return std::nullopt;
    const QVariant& v = *it;
    switch (v.typeId()) {
        case QMetaType::Int:
        case QMetaType::Short:
        case QMetaType::UShort:
        case QMetaType::UInt:
        case QMetaType::Long:
        case QMetaType::LongLong: {
            const qlonglong n = v.toLongLong();
            if (n < std::numeric_limits<int32_t>::min() || n > std::numeric_limits<int32_t>::max()) return std::nullopt;
            return static_cast<int32_t>(n);
        }
        case QMetaType::ULong:
        case QMetaType::ULongLong: {
            const qulonglong n = v.toULongLong();
            if (n > static_cast<qulonglong>(std::numeric_limits<int32_t>::max())) return std::nullopt;
            return static_cast<int32_t>(n);
        }
        case QMetaType::QString: return parse_int32(v.toString());
        default: return std::nullopt;
    }
}

std::optional<QString> string_field(const QVariantMap& map, const QString& key) {
    const auto it = map.constFind(key);
    if (it == map.constEnd() || it->typeId() != QMetaType::QString) return std::nullopt;
    return it->toString();
}

// A bool, or the text "true"/"false" (INI backends give strings back); anything else is malformed.
std::optional<bool> bool_field(const QVariantMap& map, const QString& key) {
    const auto it = map.constFind(key);
    if (it == map.constEnd()) return std::nullopt;
    if (it->typeId() == QMetaType::Bool) return it->toBool();
    if (it->typeId() != QMetaType::QString) return std::nullopt;
    const QString text = it->toString().trimmed();
    if (text == QStringLiteral("true")) return true;
    if (text == QStringLiteral("false")) return false;
    return std::nullopt;
}

// One of the engine's names through its parser (which throws InvalidSetting for others).
template <typename Enum, typename Parse>
std::optional<Enum> enum_field(const QVariantMap& map, const QString& key, Parse parse) {
    const std::optional<QString> name = string_field(map, key);
    if (!name) return std::nullopt;
    try {
        return parse(name->toStdString());
    } catch (const InvalidSetting&) {
        return std::nullopt;
    }
}

// "" or "1,2,40".
std::optional<std::set<int32_t>> parse_pins(const QString& text) {
    std::set<int32_t> pins;
    if (text.trimmed().isEmpty()) return pins;
    for (const QString& item : text.split(QLatin1Char(','))) {
        const std::optional<int32_t> p = parse_int32(item);
        if (!p) return std::nullopt;
        pins.insert(*p);
    }
    return pins;
}

// "" or "1024:0,8192:2048".
std::optional<std::vector<DynamicWindowStep>> parse_steps(const QString& text) {
    std::vector<DynamicWindowStep> steps;
    if (text.trimmed().isEmpty()) return steps;
    for (const QString& item : text.split(QLatin1Char(','))) {
        const QStringList parts = item.split(QLatin1Char(':'));
        if (parts.size() != 2) return std::nullopt;
        const std::optional<int32_t> below = parse_int32(parts[0]);
        const std::optional<int32_t> window = parse_int32(parts[1]);
        if (!below || !window) return std::nullopt;
        steps.push_back(DynamicWindowStep{*below, *window});
    }
    return steps;
}

}  // namespace

QVariantMap policyToSettings(const PolicyConfig& policy) {
    QStringList pins;
    for (int32_t p : policy.pins) pins << QString::number(p);
    QStringList steps;
    for (const DynamicWindowStep& step : policy.dynamic) steps << QStringLiteral("%1:%2").arg(step.below).arg(step.window);
    QVariantMap map;
    map.insert(kKind, QString::fromLatin1(policy_kind_name(policy.kind)));
    map.insert(kWindow, policy.window);
    map.insert(kSinks, policy.sinks);
    map.insert(kPins, pins.join(QLatin1Char(',')));
    map.insert(kPinEvery, policy.pin_every);
    map.insert(kH2oHeavy, policy.h2o_heavy);
    map.insert(kH2oRecent, policy.h2o_recent);
    map.insert(kBudget, policy.budget);
    map.insert(kPinSeparators, policy.pin_separators);
    map.insert(kBudgetPercent, policy.budget_percent);
    map.insert(kFullEvery, policy.full_every);
    map.insert(kDynamic, steps.join(QLatin1Char(',')));
    map.insert(kKvType, QString::fromLatin1(kv_value_type_name(policy.kv_type)));
    map.insert(kPositions, QString::fromLatin1(position_mode_name(policy.positions)));
    return map;
}

std::optional<PolicyConfig> policyFromSettings(const QVariantMap& map) {
    const auto kind = enum_field<PolicyKind>(map, kKind, parse_policy_kind);
    const auto kv_type = enum_field<KvValueType>(map, kKvType, parse_kv_value_type);
    const auto positions = enum_field<PositionMode>(map, kPositions, parse_position_mode);
    const auto window = int_field(map, kWindow);
    const auto sinks = int_field(map, kSinks);
    const auto pin_every = int_field(map, kPinEvery);
    const auto h2o_heavy = int_field(map, kH2oHeavy);
    const auto h2o_recent = int_field(map, kH2oRecent);
    const auto full_every = int_field(map, kFullEvery);
    const auto budget = map.contains(kBudget) ? int_field(map, kBudget) : std::optional<int32_t>(0);
    const auto pin_separators = map.contains(kPinSeparators) ? bool_field(map, kPinSeparators) : std::optional<bool>(false);
    const auto budget_percent = map.contains(kBudgetPercent) ? int_field(map, kBudgetPercent) : std::optional<int32_t>(0);
    const auto pins_text = string_field(map, kPins);
    const auto steps_text = string_field(map, kDynamic);
    if (!kind || !kv_type || !positions || !window || !sinks || !pin_every || !h2o_heavy || !h2o_recent || !budget || !budget_percent || !pin_separators || !full_every ||
        !pins_text || !steps_text)
        return std::nullopt;
    auto pins = parse_pins(*pins_text);
    auto steps = parse_steps(*steps_text);
    if (!pins || !steps) return std::nullopt;

    PolicyConfig p;
    p.kind = *kind;
    p.window = *window;
    p.sinks = *sinks;
    p.pins = std::move(*pins);
    p.pin_every = *pin_every;
    p.h2o_heavy = *h2o_heavy;
    p.h2o_recent = *h2o_recent;
    p.budget = *budget;
    p.pin_separators = *pin_separators;
    p.budget_percent = *budget_percent;
    p.full_every = *full_every;
    p.dynamic = std::move(*steps);
    p.kv_type = *kv_type;
    p.positions = *positions;
    return p;
}

}  // namespace kvscope::gui
