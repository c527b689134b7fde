// The editable sweep grid: policies, windows, sinks, KV value types, the
// position mode, the reference run and the thread count.
#pragma once

#include <QWidget>

#include <utility>
#include <vector>

#include "eval/sweep.h"

class QCheckBox;
class QComboBox;
class QLineEdit;
class QSpinBox;

namespace kvscope::gui {

class SweepGridEditor : public QWidget {
    Q_OBJECT
public:
    explicit SweepGridEditor(QWidget* parent = nullptr);

    void setGrid(const SweepGrid& grid);
    // The grid as edited; a list that does not parse comes back empty (and
    // error() says why).
    SweepGrid grid() const;
    // "" when grid() is one sweep_plan accepts; otherwise the first problem,
    // naming the field.
    QString error() const;

    int threads() const;
    // False (and no change) outside 1 .. the machine's thread count.
    bool setThreads(int threads);

signals:
    void changed();

private:
    void setFields(const SweepGrid& grid);  // without the changed() signal

    // One box per sweepable policy of the registry, in its order (object
    // names "policy" + the name capitalised: policyFull, policySinks, policyTova, ...).
    std::vector<std::pair<PolicyKind, QCheckBox*>> policy_boxes_;
    QLineEdit* windows_ = nullptr;
    QLineEdit* sinks_ = nullptr;
    QCheckBox* kv_f32_ = nullptr;
    QCheckBox* kv_f16_ = nullptr;
    QCheckBox* kv_q8_ = nullptr;
    QComboBox* positions_ = nullptr;
    QCheckBox* reference_ = nullptr;
    QSpinBox* threads_ = nullptr;
};

}  // namespace kvscope::gui
