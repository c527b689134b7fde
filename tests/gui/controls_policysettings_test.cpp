// policyToSettings / policyFromSettings (gui/controls/policy_settings.h):
// every PolicyConfig field survives a round trip, through a map and through a
// real QSettings INI file; anything malformed gives nullopt, never a throw.
#include <QFile>
#include <QSettings>
#include <QTemporaryDir>
#include <QtTest>

#include <climits>

#include "controls/policy_settings.h"

using kvscope::DynamicWindowStep;
using kvscope::KvValueType;
using kvscope::PolicyConfig;
using kvscope::PolicyKind;
using kvscope::PositionMode;
using kvscope::gui::policyFromSettings;
using kvscope::gui::policyToSettings;

namespace {

// Every field away from its default (the kind need not use them all: settings keep them anyway).
PolicyConfig every_field_set() {
    PolicyConfig p;
    p.kind = PolicyKind::Global;
    p.window = 300;
    p.sinks = 4;
    p.pins = {0, 7, 40};
    p.pin_every = 16;
    p.h2o_heavy = 64;
    p.h2o_recent = 192;
    p.budget = 320;
    p.pin_separators = true;
    p.budget_percent = 20;
    p.full_every = 5;
    p.dynamic = {{1024, 0}, {8192, 2048}, {INT32_MAX, 4096}};
    p.kv_type = KvValueType::Q8_0;
    p.positions = PositionMode::InCache;
    return p;
}

}  // namespace

class ControlsPolicySettingsTest : public QObject {
    Q_OBJECT
private slots:
    void roundTripsEveryField() {
        const PolicyConfig p = every_field_set();
        const QVariantMap map = policyToSettings(p);
        QCOMPARE(map.value(QStringLiteral("kind")).toString(), QStringLiteral("global"));  // the engine's names
        QCOMPARE(map.value(QStringLiteral("kv_type")).toString(), QStringLiteral("q8_0"));
        QCOMPARE(map.value(QStringLiteral("positions")).toString(), QStringLiteral("in-cache"));
        QCOMPARE(map.value(QStringLiteral("pins")).toString(), QStringLiteral("0,7,40"));
        QCOMPARE(map.value(QStringLiteral("dynamic")).toString(), QStringLiteral("1024:0,8192:2048,2147483647:4096"));
        QCOMPARE(map.size(), 14);
        const std::optional<PolicyConfig> back = policyFromSettings(map);
        QVERIFY(back.has_value());
        QVERIFY(*back == p);
        QCOMPARE(back->describe(), p.describe());

        // Text backends (INI, registry strings) give every value back as a string.
        QVariantMap as_text;
        for (auto it = map.cbegin(); it != map.cend(); ++it) as_text.insert(it.key(), it.value().toString());
        QCOMPARE(as_text.value(QStringLiteral("window")).typeId(), QMetaType::QString);
        const auto from_text = policyFromSettings(as_text);
        QVERIFY(from_text.has_value());
        QVERIFY(*from_text == p);

        // Each kind / type / mode and the empty lists too.
        for (PolicyKind kind : {PolicyKind::Full, PolicyKind::Window, PolicyKind::SinksWindow, PolicyKind::Global, PolicyKind::H2O,
                                 PolicyKind::Tova})
            for (KvValueType type : {KvValueType::F32, KvValueType::F16, KvValueType::Q8_0})
                for (PositionMode mode : {PositionMode::Original, PositionMode::InCache}) {
                    PolicyConfig q;
                    q.kind = kind;
                    q.kv_type = type;
                    q.positions = mode;
                    q.window = -3;  // not a valid policy, but stored as it is: validate judges it later
                    const auto r = policyFromSettings(policyToSettings(q));
                    QVERIFY(r.has_value());
                    QVERIFY(*r == q);
                }
    }

    // Through QSettings' INI backend (plain text on disk).
    void roundTripsThroughAnIniFile() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString file = dir.filePath(QStringLiteral("kvscope.ini"));
        const PolicyConfig p = every_field_set();
        PolicyConfig one_pin = p;
        one_pin.pins = {12};  // a one-element list is where INI lists go wrong
        one_pin.dynamic = {{INT32_MAX, 0}};
        for (const PolicyConfig& policy : {p, one_pin}) {
            {
                QSettings settings(file, QSettings::IniFormat);
                settings.remove(QStringLiteral("policy"));
                settings.beginGroup(QStringLiteral("policy"));
                const QVariantMap map = policyToSettings(policy);
                for (auto it = map.cbegin(); it != map.cend(); ++it) settings.setValue(it.key(), it.value());
                settings.endGroup();
                settings.sync();
                QCOMPARE(settings.status(), QSettings::NoError);
            }
            QFile ini(file);
            QVERIFY(ini.open(QIODevice::ReadOnly));
            const QByteArray text = ini.readAll();
            QVERIFY(text.contains("kind=global"));
            QVERIFY(text.contains("kv_type=q8_0"));
            QSettings settings(file, QSettings::IniFormat);
            settings.beginGroup(QStringLiteral("policy"));
            QVariantMap read;
            for (const QString& key : settings.childKeys()) read.insert(key, settings.value(key));
            const auto back = policyFromSettings(read);
            QVERIFY(back.has_value());
            QVERIFY(*back == policy);
        }
    }

    void malformedMapsGiveNothing() {
        QVERIFY(!policyFromSettings(QVariantMap{}).has_value());
        const QVariantMap good = policyToSettings(every_field_set());
        QVERIFY(policyFromSettings(good).has_value());

        // Each key missing, except the newer ones: settings written before them lack them.
        for (auto it = good.cbegin(); it != good.cend(); ++it) {
            QVariantMap m = good;
            m.remove(it.key());
            if (it.key() == QStringLiteral("budget") || it.key() == QStringLiteral("pin_separators") ||
                it.key() == QStringLiteral("budget_percent")) {
                const auto older = policyFromSettings(m);  // written before these existed: their defaults
                QVERIFY(older.has_value());
                QCOMPARE(older->budget, it.key() == QStringLiteral("budget") ? 0 : 320);
                QCOMPARE(older->pin_separators, it.key() != QStringLiteral("pin_separators"));
                QCOMPARE(older->budget_percent, it.key() == QStringLiteral("budget_percent") ? 0 : 20);
                continue;
            }
            QVERIFY2(!policyFromSettings(m).has_value(), qPrintable(it.key()));
        }

        const auto with = [&good](const char* key, const QVariant& value) {
            QVariantMap m = good;
            m.insert(QLatin1String(key), value);
            return m;
        };
        const std::vector<std::pair<const char*, QVariant>> bad = {
            {"kind", QStringLiteral("sliding")},           // not an engine name
            {"kind", QStringLiteral("Global")},            // names are exact
            {"kind", 3},                                   // an enum's number is not its name
            {"kv_type", QStringLiteral("q4_0")},
            {"positions", QStringLiteral("rotated")},
            {"window", QStringLiteral("12x")},
            {"window", QStringLiteral("")},
            {"window", 2.5},                               // not a whole number
            {"window", true},
            {"window", QStringLiteral("4294967296")},      // beyond int32
            {"sinks", qlonglong{INT32_MAX} + 1},
            {"pin_every", QVariantList{1, 2}},
            {"h2o_heavy", QVariant()},
            {"h2o_recent", QStringLiteral("0x10")},
            {"full_every", QStringLiteral("1.0")},
            {"budget", QStringLiteral("b")},
            {"budget", 1.5},
            {"pin_separators", QStringLiteral("yes")},
            {"pin_separators", 1},
            {"budget_percent", QStringLiteral("20%")},
            {"pins", QStringLiteral("1,x,3")},
            {"pins", QStringLiteral("1,,3")},
            {"pins", QStringLiteral("99999999999")},
            {"pins", 5},                                   // a list is a string
            {"dynamic", QStringLiteral("1024")},           // BELOW:WINDOW, both
            {"dynamic", QStringLiteral("1024:full")},      // raw numbers, not the dock's spec
            {"dynamic", QStringLiteral("1:2:3")},
            {"dynamic", QStringLiteral("1024:0,")},
            {"dynamic", QVariantList{QStringLiteral("1024:0")}},
        };
        for (const auto& [key, value] : bad)
            QVERIFY2(!policyFromSettings(with(key, value)).has_value(), qPrintable(QStringLiteral("%1 = %2").arg(QLatin1String(key), value.toString())));

        // Not malformed: numbers as strings (text backends), blanks, an unknown extra key.
        const auto ok = policyFromSettings(with("window", QStringLiteral(" 300 ")));
        QVERIFY(ok.has_value());
        QCOMPARE(ok->window, 300);
        QVariantMap extra = good;
        extra.insert(QStringLiteral("comment"), QStringLiteral("from a later version"));
        QVERIFY(policyFromSettings(extra).has_value());
    }
};

QTEST_MAIN(ControlsPolicySettingsTest)
#include "controls_policysettings_test.moc"
