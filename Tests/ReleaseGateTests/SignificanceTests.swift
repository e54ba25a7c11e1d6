import ReleaseGate
import Testing

/// The gate fails beta on a rate only when the difference is beyond chance (one-sided
/// two-proportion z-test at 99 %), so a single unlucky job does not roll a sound beta back.
@Suite struct SignificanceTests {
    @Test func oneDeadJobAmongAHundredIsChanceAndADozenIsNot() {
        #expect(!GateMetric.significantlyWorse(beta: (1, 150), production: (0, 300), higherIsWorse: true))
        #expect(GateMetric.significantlyWorse(beta: (12, 150), production: (0, 300), higherIsWorse: true))
        #expect(!GateMetric.significantlyWorse(beta: (0, 150), production: (12, 300), higherIsWorse: true), "better is never worse")
    }

    @Test func aLowerAnswerRateCountsOnlyWhenItIsClear() {
        #expect(GateMetric.significantlyWorse(beta: (40, 50), production: (48, 50), higherIsWorse: false))
        #expect(!GateMetric.significantlyWorse(beta: (45, 50), production: (48, 50), higherIsWorse: false))
    }

    @Test func nothingOnEitherSideIsNeverWorse() {
        #expect(!GateMetric.significantlyWorse(beta: (0, 100), production: (0, 100), higherIsWorse: true))
        #expect(!GateMetric.significantlyWorse(beta: (0, 0), production: (5, 100), higherIsWorse: true))
        #expect(GateMetric.significantlyWorse(beta: (100, 100), production: (0, 100), higherIsWorse: true))
    }
}
