#pragma once
// A PolicyConfig as a QVariantMap for QSettings, and back: every field, so the
// main window restores exactly the policy it saved. Enums are stored under the
// engine's names (policy_kind_name, kv_value_type_name, position_mode_name),
// numbers as integers, pins as "1,2,40" and dynamic steps as
// "1024:0,8192:2048" (BELOW:WINDOW, raw integers): plain strings, because
// QSettings' INI backend reads a one-element list back as a single string.
//
// Keys: kind, window, sinks, pins, pin_every, h2o_heavy, h2o_recent,
// full_every, dynamic, kv_type, positions; and budget, pin_separators,
// budget_percent, which settings written before them lack (read as 0 / false).
#include <QVariantMap>

#include <optional>

#include "kv/kv_policy.h"

namespace kvscope::gui {

QVariantMap policyToSettings(const PolicyConfig& policy);

// The policy stored by policyToSettings, or nullopt when anything is malformed:
// a key missing, an unknown name, a number that is not a whole int32 (an int,
// or a string of one, as QSettings' text backends give back), a bad pin or
// step list. Never throws. Keys it does not know are ignored. Whether the
// policy fits a model is PolicyConfig::validate's job (PolicyPanel::setPolicy).
std::optional<PolicyConfig> policyFromSettings(const QVariantMap& map);

}  // namespace kvscope::gui
