import Foundation

/// One comparison of the gate: beta against production over the same window (Kayenta's
/// same-time baseline, not history), with the samples each side needs and the threshold beta
/// must keep.
public struct GateMetric: Codable, Sendable, Equatable {
    public enum Verdict: String, Codable, Sendable {
        case pass, fail
        /// A side has fewer samples than the minimum: nothing can be said yet.
        case insufficient
    }

    public let name: String
    public let production: Double?
    public let beta: Double?
    public let productionSamples: Int
    public let betaSamples: Int
    public let minimumSamples: Int
    /// The rule, as a reader checks it: e.g. "beta ≤ max(1.5 × production, production + 0.02)".
    public let threshold: String
    public let verdict: Verdict

    /// A rate where lower is better: beta fails above `max(factor × production, production + slack)`.
    static func lowerIsBetter(_ name: String, production: (Int, Int), beta: (Int, Int), minimum: Int,
                              factor: Double, slack: Double) -> GateMetric {
        make(name, production: production, beta: beta, minimum: minimum,
             threshold: "beta ≤ max(\(factor) × production, production + \(slack))") { beta, production in
            beta <= max(factor * production, production + slack)
        }
    }

    /// A rate where higher is better: beta fails below `production − slack`.
    static func higherIsBetter(_ name: String, production: (Int, Int), beta: (Int, Int), minimum: Int, slack: Double) -> GateMetric {
        make(name, production: production, beta: beta, minimum: minimum, threshold: "beta ≥ production − \(slack)") { beta, production in
            beta >= production - slack
        }
    }

    /// `production` and `beta` are (events, samples): the rate is events ÷ samples.
    private static func make(_ name: String, production: (Int, Int), beta: (Int, Int), minimum: Int, threshold: String,
                             holds: (Double, Double) -> Bool) -> GateMetric {
        func rate(_ side: (Int, Int)) -> Double? { side.1 > 0 ? Double(side.0) / Double(side.1) : nil }
        let verdict: Verdict
        if production.1 < minimum || beta.1 < minimum {
            verdict = .insufficient
        } else {
            verdict = holds(rate(beta) ?? 0, rate(production) ?? 0) ? .pass : .fail
        }
        return GateMetric(name: name, production: rate(production), beta: rate(beta), productionSamples: production.1,
                          betaSamples: beta.1, minimumSamples: minimum, threshold: threshold, verdict: verdict)
    }

    /// What keeps this metric from letting the release through, if anything.
    var reason: String? {
        func percent(_ value: Double?) -> String { value.map { String(format: "%.1f %%", $0 * 100) } ?? "none" }
        switch verdict {
        case .pass: return nil
        case .fail: return "\(name): beta \(percent(beta)) against production \(percent(production)) (\(threshold))"
        case .insufficient:
            return "\(name): too few samples (production \(productionSamples), beta \(betaSamples); at least \(minimumSamples) each)"
        }
    }
}
