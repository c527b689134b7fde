#pragma once
// The text form of a dynamic window (PolicyConfig::dynamic), as the policy
// dock's line edit takes it: comma-separated LENGTH:WINDOW steps, WINDOW a
// number or "full" (= 0), the last step may be WINDOW alone (= below INT32_MAX).
//   "1024:full, 8192:2048, 4096"  full below 1,024 positions, a window of 2,048
//                                  below 8,192, else 4,096
// The same grammar as the CLI's --dynamic-window (cli/policy_args.h), with
// blanks allowed around the numbers. Whether the steps fit the context and the
// policy is PolicyConfig::validate's job; this only checks the syntax.
#include <QString>

#include <vector>

#include "kv/kv_policy.h"

namespace kvscope::gui {

struct DynamicWindowParse {
    std::vector<DynamicWindowStep> steps;  // empty for a blank text (no dynamic window)
    QString error;                         // "" when the text parsed
    bool ok() const { return error.isEmpty(); }
};

DynamicWindowParse parse_dynamic_window_spec(const QString& text);

// The inverse of the parser: "1024:full, 8192:2048, 4096" ("" for no steps).
QString format_dynamic_window_spec(const std::vector<DynamicWindowStep>& steps);

}  // namespace kvscope::gui
