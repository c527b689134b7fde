#pragma once
// A read-only form of a loaded model's facts (model_facts.h): name,
// architecture, file and size, shape, RoPE, weight bytes and tensor types,
// KV bytes per token. Keeps no reference to the model.
#include <QString>
#include <QWidget>

#include "controls/model_facts.h"

class QFormLayout;
class QPushButton;

namespace kvscope {
class Model;
}

namespace kvscope::gui {

class ModelInfoPanel : public QWidget {
    Q_OBJECT
public:
    explicit ModelInfoPanel(QWidget* parent = nullptr);

    void setModel(const Model& model, const QString& path);  // reads config/file; keeps no reference
    void clear();
    QString text() const;  // the shown facts as plain text, one "Label: value" per line (for tests/copy)
    const std::vector<ModelFact>& facts() const { return facts_; }

private:
    void rebuildForm();

    std::vector<ModelFact> facts_;
    QFormLayout* form_ = nullptr;
    QPushButton* copy_button_ = nullptr;
};

}  // namespace kvscope::gui
