// TokenRate: steps over the time they took, not one over the gap of a burst.
#include <QtTest>

#include "core/token_rate.h"

using kvscope::gui::TokenRate;

class CoreRateTest : public QObject {
    Q_OBJECT
private slots:
    // 10 steps a second arriving in bursts of three (the worker runs ahead):
    // 10 tok/s, where the gap inside a burst would say 10,000.
    void burstsAverageOut() {
        TokenRate rate;
        int64_t t = 0;
        for (int burst = 0; burst < 10; ++burst) {
            for (int i = 0; i < 3; ++i) rate.add(t + i * 100'000);  // 0.1 ms apart
            t += 300'000'000;                                         // 3 steps per 0.3 s
        }
        // 30 steps over the span from the first to the last arrival.
        const double span_s = (9 * 300e6 + 2 * 100e3) / 1e9;
        QVERIFY(std::abs(rate.perSecond() - 29.0 / span_s) < 1e-9);
        QVERIFY(rate.perSecond() > 9.0 && rate.perSecond() < 11.5);
    }

    // Too little seen: no number rather than a wrong one.
    void tooFewStepsGiveNoRate() {
        TokenRate rate;
        QVERIFY(rate.perSecond() < 0);
        rate.add(0);
        rate.add(1'000'000);
        rate.add(2'000'000);  // three steps within 2 ms: shorter than the minimum span
        QVERIFY(rate.perSecond() < 0);
        rate.add(TokenRate::kMinSpanNs);
        QVERIFY(rate.perSecond() > 0);
        rate.reset();
        QVERIFY(rate.perSecond() < 0);
    }

    // Steps older than the window stop counting: a slower run shows its own rate.
    void oldStepsLeaveTheWindow() {
        TokenRate rate;
        for (int i = 0; i < 100; ++i) rate.add(int64_t{i} * 10'000'000);  // 100 tok/s for 1 s
        const int64_t start = 100 * int64_t{10'000'000};
        for (int i = 0; i < 40; ++i) rate.add(start + int64_t{i} * 100'000'000);  // then 10 tok/s for 4 s
        QVERIFY2(rate.perSecond() > 9.0 && rate.perSecond() < 11.5, qPrintable(QString::number(rate.perSecond())));
    }
};

QTEST_MAIN(CoreRateTest)
#include "core_rate_test.moc"
