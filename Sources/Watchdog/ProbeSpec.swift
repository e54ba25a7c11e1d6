import Foundation

/// A probe's declared timing (`Sources/Watchdog/probes.json`): how often, how long it may take,
/// and how many results in a row change its state. Read and validated at start-up, like the
/// job policies: a bad file stops the watchdog naming the probe, the field and the problem.
struct ProbeSpec: Sendable, Equatable {
    let name: String
    let interval: Duration
    let timeout: Duration
    let downAfter: Int
    let upAfter: Int
    /// Its down state pauses dialing.
    let telephony: Bool
    /// SIP codes besides 2xx that mean the trunk is there (a 404 for an unknown user still
    /// proves the trunk answers).
    let accept: Set<Int>
    /// `callbacks`: how long an accepted callback may wait for its first ring; `reconciler`: how
    /// old its last pass may be.
    let maxAge: Duration?
    /// `answer_ratio`: the attempts it looks at (those ended this recently), and how many it needs
    /// before a ratio says anything.
    let window: Duration?
    let minimumAttempts: Int?

    /// Every probe the watchdog knows, with the fields it cannot do without; the file must
    /// declare each exactly once.
    static let required: [String: [String]] = [
        "sip_trunk": [], "provider_api": [], "synthetic_call": [], "answer_ratio": ["window_s", "min_attempts"],
        "api_ready": [], "redis": [], "postgres": [], "queues": [], "callbacks": ["max_age_s"], "reconciler": ["max_age_s"], "release_gate": [],
    ]
    static var names: Set<String> { Set(required.keys) }
    static let fields: Set = ["description", "interval_ms", "timeout_ms", "down_after", "up_after", "accept", "telephony",
                              "max_age_s", "window_s", "min_attempts"]
    static let file = "Sources/Watchdog/probes.json"

    /// The shipped probes, validated.
    static func shipped() throws(WatchdogError) -> [String: ProbeSpec] {
        try parse(PackageResources.probes_json)
    }

    static func parse(_ bytes: [UInt8]) throws(WatchdogError) -> [String: ProbeSpec] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw WatchdogError("\(file): expected a JSON object of probes")
        }
        if let unknown = object.keys.sorted().first(where: { !names.contains($0) }) {
            throw WatchdogError("\(file): unknown probe '\(unknown)' (known: \(names.sorted().joined(separator: ", ")))")
        }
        if let missing = names.sorted().first(where: { object[$0] == nil }) {
            throw WatchdogError("\(file): probe '\(missing)' is not declared")
        }
        var specs: [String: ProbeSpec] = [:]
        for (name, value) in object {
            guard let fields = value as? [String: Any] else { throw WatchdogError("\(file): \(name): expected an object") }
            if let unknown = fields.keys.sorted().first(where: { !Self.fields.contains($0) }) {
                throw WatchdogError("\(file): \(name).\(unknown): unknown field")
            }
            if let missing = required[name]?.first(where: { fields[$0] == nil }) {
                throw WatchdogError("\(file): \(name).\(missing): required")
            }
            func integer(_ field: String, _ range: ClosedRange<Int>) throws(WatchdogError) -> Int {
                guard let number = fields[field] as? NSNumber, String(cString: number.objCType) != "c",
                      let int = Int(exactly: number.doubleValue), range.contains(int) else {
                    throw WatchdogError("\(file): \(name).\(field): expected an integer \(range.lowerBound)-\(range.upperBound), got \(fields[field].map { "\($0)" } ?? "nothing")")
                }
                return int
            }
            let interval = try integer("interval_ms", 100...3_600_000)
            let timeout = try integer("timeout_ms", 50...600_000)
            guard timeout <= interval else { throw WatchdogError("\(file): \(name).timeout_ms: expected ≤ interval_ms (\(interval)), got \(timeout)") }
            var accept = Set<Int>()
            if fields["accept"] != nil {
                guard let codes = fields["accept"] as? [NSNumber], codes.allSatisfy({ (100...699).contains($0.intValue) }) else {
                    throw WatchdogError("\(file): \(name).accept: expected SIP codes 100-699")
                }
                accept = Set(codes.map(\.intValue))
            }
            let telephony: Bool
            if let flag = fields["telephony"] {
                guard let number = flag as? NSNumber, String(cString: number.objCType) == "c" else {
                    throw WatchdogError("\(file): \(name).telephony: expected true or false")
                }
                telephony = number.boolValue
            } else {
                telephony = false
            }
            func seconds(_ field: String) throws(WatchdogError) -> Duration? {
                fields[field] == nil ? nil : .seconds(try integer(field, 1...86_400))
            }
            specs[name] = ProbeSpec(name: name, interval: .milliseconds(interval), timeout: .milliseconds(timeout),
                                    downAfter: try integer("down_after", 1...100), upAfter: try integer("up_after", 1...100),
                                    telephony: telephony, accept: accept, maxAge: try seconds("max_age_s"), window: try seconds("window_s"),
                                    minimumAttempts: fields["min_attempts"] == nil ? nil : try integer("min_attempts", 1...100_000))
        }
        return specs
    }

    /// Every duration × the time scale (tests run the watchdog fast).
    func scaled(_ scale: Double) -> ProbeSpec {
        ProbeSpec(name: name, interval: interval * scale, timeout: timeout * scale, downAfter: downAfter, upAfter: upAfter,
                  telephony: telephony, accept: accept, maxAge: maxAge.map { $0 * scale }, window: window.map { $0 * scale },
                  minimumAttempts: minimumAttempts)
    }
}

/// The watchdog could not start or run: its message names what is wrong.
public struct WatchdogError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }

    public static func message(_ text: String) -> WatchdogError { WatchdogError(text) }
}
