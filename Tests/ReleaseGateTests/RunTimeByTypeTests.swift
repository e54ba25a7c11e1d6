import ReleaseGate
import Testing

/// The gate's p99 run time compares each job type with itself: a beta that got a slower mix of
/// types (more recording uploads) is not slower, a beta whose type runs slower is.
@Suite struct RunTimeByTypeTests {
    typealias Side = [String: (seconds: Double?, samples: Int)]

    func verdict(production: Side, beta: Side) -> GateMetric {
        GateMetric.shorterIsBetterByType("p99 job run time", production: production, beta: beta, minimum: 1000, factor: 2,
                                         slack: .milliseconds(250))
    }

    @Test func aSlowerMixOfTypesIsNotASlowerBuild() {
        // Over the mix, beta's p99 would be an upload's; type by type it matches production.
        let metric = verdict(production: ["noop": (0.004, 6000), "recording.upload": (1.0, 40)],
                             beta: ["noop": (0.005, 6000), "recording.upload": (1.1, 90)])
        #expect(metric.verdict == .pass, "\(metric)")
        #expect(metric.name == "p99 job run time (noop)")
    }

    @Test func aTypeThatRunsSlowerFailsAndIsNamed() {
        let metric = verdict(production: ["noop": (0.004, 6000), "callback.dial": (0.2, 2000)],
                             beta: ["noop": (0.004, 6000), "callback.dial": (0.9, 2000)])
        #expect(metric.verdict == .fail && metric.name == "p99 job run time (callback.dial)", "\(metric)")
        #expect(metric.beta == 0.9 && metric.production == 0.2)
    }

    @Test func withoutEnoughRunsOfAnyTypeOnBothSidesNothingIsSaid() {
        let metric = verdict(production: ["noop": (0.004, 6000), "callback.dial": (0.2, 900)], beta: ["callback.dial": (5, 990)])
        #expect(metric.verdict == .insufficient && metric.name == "p99 job run time (callback.dial)", "\(metric)")
        #expect(verdict(production: [:], beta: [:]).verdict == .insufficient)
    }
}
