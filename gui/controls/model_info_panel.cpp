#include "controls/model_info_panel.h"

#include <QApplication>
#include <QClipboard>
#include <QFormLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

namespace kvscope::gui {

namespace {

// A long value without spaces (a file path, a tensor-type list) gets break
// opportunities after separators, so the narrow dock wraps it instead of
// cutting it off. (Copy uses the facts themselves, without them.)
QString breakable(const QString& value) {
    if (value.size() < 24) return value;
    QString out;
    out.reserve(value.size() + value.size() / 4);
    for (const QChar c : value) {
        out += c;
        if (c == QLatin1Char('/') || c == QLatin1Char('_') || c == QLatin1Char('.') || c == QLatin1Char('-') ||
            c == QLatin1Char(',') || c == QLatin1Char('='))
            out += QChar(0x200B);  // zero-width space
    }
    return out;
}

}  // namespace

ModelInfoPanel::ModelInfoPanel(QWidget* parent) : QWidget(parent) {
    auto* top = new QVBoxLayout(this);
    form_ = new QFormLayout;
    form_->setRowWrapPolicy(QFormLayout::WrapLongRows);
    top->addLayout(form_);
    copy_button_ = new QPushButton(tr("Copy"), this);
    copy_button_->setObjectName(QStringLiteral("copyModelInfoButton"));
    copy_button_->setToolTip(tr("Copy these facts to the clipboard as text."));
    copy_button_->setEnabled(false);
    connect(copy_button_, &QPushButton::clicked, this, [this] { QApplication::clipboard()->setText(text()); });
    top->addWidget(copy_button_, 0, Qt::AlignRight);
    top->addStretch(1);
    rebuildForm();
}

void ModelInfoPanel::setModel(const Model& model, const QString& path) {
    facts_ = model_facts(model, path);
    rebuildForm();
}

void ModelInfoPanel::clear() {
    facts_.clear();
    rebuildForm();
}

QString ModelInfoPanel::text() const {
    QStringList lines;
    for (const ModelFact& fact : facts_) lines << fact.label + QStringLiteral(": ") + fact.value;
    return lines.join(QLatin1Char('\n'));
}

void ModelInfoPanel::rebuildForm() {
    while (form_->rowCount() > 0) form_->removeRow(0);
    copy_button_->setEnabled(!facts_.empty());
    if (facts_.empty()) {
        auto* none = new QLabel(tr("No model loaded."), this);
        none->setObjectName(QStringLiteral("noModelLabel"));
        form_->addRow(none);
        return;
    }
    for (const ModelFact& fact : facts_) {
        // GGUF metadata and file paths come from the file: shown as plain
        // text, never as the rich text QLabel's default AutoText would guess.
        auto* value = new QLabel(breakable(fact.value), this);
        value->setTextFormat(Qt::PlainText);
        value->setWordWrap(true);
        value->setTextInteractionFlags(Qt::TextSelectableByMouse);
        value->setToolTip(fact.tooltip);
        auto* label = new QLabel(fact.label + QLatin1Char(':'), this);
        label->setTextFormat(Qt::PlainText);
        label->setToolTip(fact.tooltip);
        form_->addRow(label, value);
    }
}

}  // namespace kvscope::gui
