import Foundation

/// Where a beta release stands: how much of its soak has passed, each metric, and every reason it
/// may not be promoted yet (none: promotable).
public struct GateReport: Codable, Sendable {
    public let version: String
    public let state: String
    public let startedAt: Date
    public let elapsedSeconds: Double
    public let windowSeconds: Double
    public let metrics: [GateMetric]
    public let reasons: [String]

    public var promotable: Bool { reasons.isEmpty }

    init(version: String, state: String, startedAt: Date, elapsedSeconds: Double, windowSeconds: Double, metrics: [GateMetric]) {
        self.version = version
        self.state = state
        self.startedAt = startedAt
        self.elapsedSeconds = elapsedSeconds
        self.windowSeconds = windowSeconds
        self.metrics = metrics
        var reasons: [String] = []
        if state != "soaking" { reasons.append("release \(version) is \(state.replacingOccurrences(of: "_", with: " ")), not soaking") }
        if elapsedSeconds < windowSeconds {
            reasons.append("the soak is incomplete: \(Self.duration(elapsedSeconds)) of \(Self.duration(windowSeconds))")
        }
        reasons += metrics.compactMap(\.reason)
        self.reasons = reasons
    }

    public static func duration(_ seconds: Double) -> String {
        switch seconds {
        case ..<120: String(format: "%.0f s", seconds)
        case ..<7200: String(format: "%.0f min", seconds / 60)
        case ..<172_800: String(format: "%.1f h", seconds / 3600)
        default: String(format: "%.1f days", seconds / 86_400)
        }
    }
}
