// ModelInfoPanel (gui/controls/model_info_panel.h) on the real SmolLM2-135M:
// the facts shown are the model's config, file and tensor table.
#include <QFileInfo>
#include <QLabel>
#include <QRegularExpression>
#include <QtTest>

#include "controls/model_facts.h"
#include "controls/model_info_panel.h"
#include "gui_test_support.h"

using kvscope::gui::ModelInfoPanel;

namespace {

// The value of "Label: value" in the panel's text ("" if absent).
QString value_of(const QString& text, const QString& label) {
    for (const QString& line : text.split(QLatin1Char('\n')))
        if (line.startsWith(label + QStringLiteral(": "))) return line.mid(label.size() + 2);
    return {};
}

}  // namespace

class ControlsModelInfoTest : public QObject {
    Q_OBJECT
private slots:
    void showsTheRealModel() {
        KVSCOPE_QTEST_REQUIRE_MODEL_PATH(path);
        KVSCOPE_QTEST_REQUIRE_MODEL(model);
        const kvscope::ModelConfig& c = model.config();
        // SmolLM2-135M's shape, as the brief states it; the panel must agree with the config.
        QCOMPARE(c.n_layer, 30);
        QCOMPARE(c.n_head, 9);
        QCOMPARE(c.n_head_kv, 3);

        ModelInfoPanel panel;
        panel.setModel(model, QString::fromStdString(path));
        const QString text = panel.text();
        QCOMPARE(value_of(text, QStringLiteral("Layers")), QStringLiteral("30"));
        QCOMPARE(value_of(text, QStringLiteral("Heads")), QStringLiteral("9"));
        QCOMPARE(value_of(text, QStringLiteral("KV heads")), QStringLiteral("3"));
        QCOMPARE(value_of(text, QStringLiteral("GQA group")), QStringLiteral("3 query heads per KV head"));
        QCOMPARE(value_of(text, QStringLiteral("Vocab")), QString::number(c.n_vocab));
        QCOMPARE(c.n_vocab, model.tokenizer().n_vocab());
        QCOMPARE(value_of(text, QStringLiteral("Head dim")), QString::number(c.head_dim));
        QCOMPARE(value_of(text, QStringLiteral("Embedding")), QString::number(c.n_embd));
        QCOMPARE(value_of(text, QStringLiteral("FFN")), QString::number(c.n_ff));
        QCOMPARE(value_of(text, QStringLiteral("Training context")), QString::number(c.n_ctx_train));
        QCOMPARE(value_of(text, QStringLiteral("Architecture")), QStringLiteral("llama"));
        QVERIFY(value_of(text, QStringLiteral("RoPE")).startsWith(QStringLiteral("base %1,").arg(static_cast<double>(c.rope_freq_base))));
        QCOMPARE(value_of(text, QStringLiteral("File")), QFileInfo(QString::fromStdString(path)).absoluteFilePath());

        // File size: the bytes on disk.
        const qint64 size = QFileInfo(QString::fromStdString(path)).size();
        QVERIFY(value_of(text, QStringLiteral("File size"))
                    .endsWith(QStringLiteral("(%1 bytes)").arg(QLocale(QLocale::English).toString(size))));

        // KV bytes per token at f16: 2 × 30 × 3 × 64 × 2 = 23,040.
        QCOMPARE(c.head_dim, 64);
        QCOMPARE(kvscope::gui::kv_bytes_per_token_f16(c), int64_t{23040});
        QVERIFY(value_of(text, QStringLiteral("KV bytes per token (f16)")).startsWith(QStringLiteral("22.50 KiB (23,040 bytes)")));

        // Tensor types: the counts add up to the file's tensor table.
        const QString types = value_of(text, QStringLiteral("Tensor types"));
        QRegularExpression count_re(QStringLiteral("([A-Z0-9_]+) × (\\d+)"));
        qsizetype total = 0;
        for (auto it = count_re.globalMatch(types); it.hasNext();) total += it.next().captured(2).toLongLong();
        QCOMPARE(total, static_cast<qsizetype>(model.file().tensors().size()));
        QVERIFY(types.contains(QStringLiteral("F32")));  // the norm vectors
        QCOMPARE(value_of(text, QStringLiteral("Weight bytes")),
                 kvscope::gui::format_bytes_exact(static_cast<int64_t>(model.weights().total_bytes)));

        // Shown in the form, not only in text().
        bool found_layers = false;
        for (const QLabel* label : panel.findChildren<QLabel*>())
            if (label->text() == QStringLiteral("30")) found_layers = true;
        QVERIFY(found_layers);

        panel.clear();
        QCOMPARE(panel.text(), QString());
        QVERIFY(panel.findChild<QLabel*>(QStringLiteral("noModelLabel")) != nullptr);
    }

    // A path (or GGUF metadata) holding markup is shown as typed, not rendered:
    // every label of the form is plain text.
    void markupInThePathShowsLiterally() {
        KVSCOPE_QTEST_REQUIRE_MODEL(model);
        const QString path = QStringLiteral("/tmp/<b>x</b>/model.gguf");
        ModelInfoPanel panel;
        panel.setModel(model, path);
        QCOMPARE(value_of(panel.text(), QStringLiteral("File")), QFileInfo(path).absoluteFilePath());
        const QLabel* file_label = nullptr;
        for (const QLabel* label : panel.findChildren<QLabel*>())
            if (QString(label->text()).remove(QChar(0x200B)) == QFileInfo(path).absoluteFilePath()) file_label = label;
        QVERIFY(file_label != nullptr);
        // (Break opportunities, zero-width spaces, follow each separator of a long value.)
        QVERIFY(QString(file_label->text()).remove(QChar(0x200B)).contains(QStringLiteral("<b>x</b>")));
        QCOMPARE(file_label->textFormat(), Qt::PlainText);
        for (const QLabel* label : panel.findChildren<QLabel*>())
            QVERIFY2(label->textFormat() == Qt::PlainText, qPrintable(label->text()));
    }

    void formatsBytes() {
        QCOMPARE(kvscope::gui::format_bytes_exact(23040), QStringLiteral("22.50 KiB (23,040 bytes)"));
        QCOMPARE(kvscope::gui::format_bytes_exact(512), QStringLiteral("512 bytes (512 bytes)"));
    }
};

QTEST_MAIN(ControlsModelInfoTest)
#include "controls_modelinfo_test.moc"
