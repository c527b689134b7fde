#pragma once
// Refusals kept per field of a form, shown where the person is looking: each
// refused field is outlined in red with the reason at the top of its tooltip,
// and the form's refusal label lists every refusal still standing, newest
// first. One field's refusal never hides or blocks another's; a field's
// refusal goes when that field (or a combination that includes it) is taken.
#include <QList>
#include <QPointer>
#include <QString>
#include <QWidget>

#include <vector>

class QLabel;

namespace kvscope::gui {

class FieldRefusals {
public:
    explicit FieldRefusals(QLabel* label) : label_(label) {}

    // Refuses `field` (any id the form chooses) for `reason`, outlining `widgets`.
    void refuse(int field, const QString& reason, const QList<QWidget*>& widgets);
    void clear(int field);
    void clearAll();
    bool has(int field) const;
    std::vector<int> fields() const;  // the refused fields, oldest first
    // Every refusal still standing, newest first, one per line ("" when none).
    QString text() const;

    // The outline of a refused widget (also used by tests to see it).
    static bool isOutlined(const QWidget* w);

private:
    struct Refusal {
        int field;
        QString reason;
        QList<QPointer<QWidget>> widgets;
    };
    static void outline(QWidget* w, const QString& reason);
    static void removeOutline(QWidget* w);
    void show();

    QLabel* label_;
    std::vector<Refusal> refusals_;  // oldest first, at most one per field
};

}  // namespace kvscope::gui
