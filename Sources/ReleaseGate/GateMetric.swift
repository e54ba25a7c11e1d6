import Foundation

/// One comparison of the gate: beta against production over the same window (Kayenta's
/// same-time baseline, not history), with the samples each side needs and the threshold beta
/// must keep.
public struct GateMetric: Codable, Sendable, Equatable {
    public enum Verdict: String, Codable, Sendable {
        case pass, fail
        /// A side has fewer samples than the minimum: nothing can be said yet.
        case insufficient
        /// Neither side had any, for a metric of events that may rightly not happen in a window
        /// (Kayenta's NODATA): said, and no bar to promotion.
        case noData = "no_data"
    }

    /// What `production` and `beta` measure.
    public enum Unit: String, Codable, Sendable {
        /// events ÷ samples
        case ratio
        case seconds
        /// events over the window (samples: the looks that could have seen them)
        case count
    }

    public let name: String
    public let unit: Unit
    public let production: Double?
    public let beta: Double?
    public let productionSamples: Int
    public let betaSamples: Int
    public let minimumSamples: Int
    /// The rule, as a reader checks it: e.g. "beta ≤ max(1.5 × production, production + 0.02)".
    public let threshold: String
    public let verdict: Verdict

    /// A rate where lower is better: beta fails above `max(factor × production, production + slack)`,
    /// and only when that is no accident of small counts (`significantlyWorse`).
    /// `production` and `beta` are (events, samples).
    static func lowerIsBetter(_ name: String, production: (Int, Int), beta: (Int, Int), minimum: Int,
                              factor: Double, slack: Double) -> GateMetric {
        let significant = significantlyWorse(beta: beta, production: production, higherIsWorse: true)
        return make(name, .ratio, production: rate(production), beta: rate(beta), minimum: minimum,
                    threshold: "beta ≤ max(\(factor) × production, production + \(slack)), or not significantly above") { beta, production in
            beta <= max(factor * production, production + slack) || !significant
        }
    }

    /// A rate where higher is better: beta fails below `production − slack`, and only when that
    /// is no accident of small counts. `mayBeAbsent`: no samples on either side is `noData`,
    /// not `insufficient`.
    static func higherIsBetter(_ name: String, production: (Int, Int), beta: (Int, Int), minimum: Int, slack: Double,
                               mayBeAbsent: Bool = false) -> GateMetric {
        let significant = significantlyWorse(beta: beta, production: production, higherIsWorse: false)
        return make(name, .ratio, production: rate(production), beta: rate(beta), minimum: minimum,
                    threshold: "beta ≥ production − \(slack), or not significantly below", mayBeAbsent: mayBeAbsent) { beta, production in
            beta >= production - slack || !significant
        }
    }

    /// Whether beta's rate is worse than production's beyond chance: a one-sided two-proportion
    /// z-test (pooled) at 99 % (z ≥ 2.33). Without it one dead job among beta's first hundred,
    /// against none in production, failed a sound beta in a chaos run.
    public static func significantlyWorse(beta: (Int, Int), production: (Int, Int), higherIsWorse: Bool) -> Bool {
        guard beta.1 > 0, production.1 > 0 else { return false }
        let pooled = Double(beta.0 + production.0) / Double(beta.1 + production.1)
        let error = (pooled * (1 - pooled) * (1 / Double(beta.1) + 1 / Double(production.1))).squareRoot()
        let difference = Double(beta.0) / Double(beta.1) - Double(production.0) / Double(production.1)
        guard error > 0 else { return difference != 0 && (difference > 0) == higherIsWorse }
        return (higherIsWorse ? difference : -difference) / error >= 2.33
    }

    /// A duration where shorter is better: beta fails above `max(factor × production, production + slack)`.
    static func shorterIsBetter(_ name: String, production: (seconds: Double?, samples: Int), beta: (seconds: Double?, samples: Int),
                                minimum: Int, factor: Double, slack: Duration) -> GateMetric {
        let slack = Double(slack.components.seconds) + Double(slack.components.attoseconds) / 1e18
        return make(name, .seconds, production: production, beta: beta, minimum: minimum,
                    threshold: "beta ≤ max(\(factor) × production, production + \(format(slack, .seconds)))") { beta, production in
            beta <= max(factor * production, production + slack)
        }
    }

    /// Durations by job type, where shorter is better: each type with `minimum` runs on both sides
    /// is compared as `shorterIsBetter` (a type against itself: the mix of types moves with the
    /// traffic, not the build). The metric is the type nearest its bar (a failing one if any);
    /// `insufficient`, as the type with the most runs, while no type has enough on both sides.
    public static func shorterIsBetterByType(_ name: String, production: [String: (seconds: Double?, samples: Int)],
                                      beta: [String: (seconds: Double?, samples: Int)], minimum: Int, factor: Double,
                                      slack: Duration) -> GateMetric {
        let types = Set(production.keys).union(beta.keys)
        func metric(_ type: String) -> GateMetric {
            shorterIsBetter("\(name) (\(type))", production: production[type] ?? (nil, 0), beta: beta[type] ?? (nil, 0),
                            minimum: minimum, factor: factor, slack: slack)
        }
        let compared = types.map(metric).filter { $0.verdict != .insufficient }
        func nearness(_ metric: GateMetric) -> Double {  // beta over its bar: above 1 fails
            let production = metric.production ?? 0
            let seconds = Double(slack.components.seconds) + Double(slack.components.attoseconds) / 1e18
            return (metric.beta ?? 0) / max(factor * production, production + seconds)
        }
        if let worst = compared.max(by: { nearness($0) < nearness($1) }) { return worst }
        let most = types.max { min(production[$0]?.samples ?? 0, beta[$0]?.samples ?? 0) < min(production[$1]?.samples ?? 0, beta[$1]?.samples ?? 0) }
        return most.map(metric) ?? shorterIsBetter("\(name) (by job type)", production: (nil, 0), beta: (nil, 0), minimum: minimum,
                                                    factor: factor, slack: slack)
    }

    /// Events over the window, where beta may have no more than production; `looks`: how many
    /// times they were looked for (at least `minimum` before anything can be said).
    static func noMoreThanProduction(_ name: String, production: Int, beta: Int, looks: Int, minimum: Int) -> GateMetric {
        make(name, .count, production: (Double(production), looks), beta: (Double(beta), looks), minimum: minimum,
             threshold: "beta ≤ production") { beta, production in beta <= production }
    }

    private static func rate(_ side: (Int, Int)) -> (Double?, Int) {
        (side.1 > 0 ? Double(side.0) / Double(side.1) : nil, side.1)
    }

    private static func make(_ name: String, _ unit: Unit, production: (Double?, Int), beta: (Double?, Int), minimum: Int,
                             threshold: String, mayBeAbsent: Bool = false, holds: (Double, Double) -> Bool) -> GateMetric {
        let verdict: Verdict
        if mayBeAbsent && production.1 == 0 && beta.1 == 0 {
            verdict = .noData
        } else if production.1 < minimum || beta.1 < minimum {
            verdict = .insufficient
        } else {
            verdict = holds(beta.0 ?? 0, production.0 ?? 0) ? .pass : .fail
        }
        return GateMetric(name: name, unit: unit, production: production.0, beta: beta.0, productionSamples: production.1,
                          betaSamples: beta.1, minimumSamples: minimum, threshold: threshold, verdict: verdict)
    }

    /// A side's figure as a reader wants it: "2.40 %", "0.125 s", "3".
    public func formatted(_ value: Double?) -> String {
        value.map { Self.format($0, unit) } ?? "none"
    }

    private static func format(_ value: Double, _ unit: Unit) -> String {
        switch unit {
        case .ratio: String(format: "%.2f %%", value * 100)
        case .seconds: value.isInfinite ? "over 1 h" : String(format: "%.3f s", value)
        case .count: String(format: "%.0f", value)
        }
    }

    /// What keeps this metric from letting the release through, if anything.
    var reason: String? {
        switch verdict {
        case .pass, .noData: return nil
        case .fail: return "\(name): beta \(formatted(beta)) against production \(formatted(production)) (\(threshold))"
        case .insufficient:
            return "\(name): too few samples (production \(productionSamples), beta \(betaSamples); at least \(minimumSamples) each)"
        }
    }
}
