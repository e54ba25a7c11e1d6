import Foundation

/// The code behind one job type. Handlers must be idempotent (delivery is at-least-once) and
/// must honour task cancellation, which is how timeouts and shutdown stop them.
public protocol JobHandler: Sendable {
    func run(_ job: Job) async throws -> JobOutcome
}

/// What an attempt ended in; a value, so "what happens next" is explicit in the handler.
public enum JobOutcome: Sendable, Equatable {
    case completed
    /// Failed; try again after the given delay, or the policy's backoff when nil. Uses an attempt.
    case retry(after: Duration?, reason: String)
    /// Not now (e.g. outside working hours): run again later without using an attempt.
    case snooze(Duration)
    /// Cannot ever succeed (bad payload, invalid number): dead at once with the reason.
    case discard(reason: String)
}

/// Thrown by a handler for a failure no retry can fix; the job goes to dead at once.
public struct PermanentJobError: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

extension Job {
    /// Decodes the payload; a payload that does not fit is a permanent failure that names the
    /// job type and what is wrong, never a crash and never a retry loop.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(payload))
        } catch let error as DecodingError {
            throw PermanentJobError("payload of \(self.type) job does not decode: \(error.readable)")
        } catch {
            throw PermanentJobError("payload of \(self.type) job does not decode: \(error)")
        }
    }
}

extension DecodingError {
    /// "field 'ms': expected Int" rather than Foundation's multi-line dump.
    var readable: String {
        func path(_ context: Context) -> String {
            let text = context.codingPath.map(\.stringValue).joined(separator: ".")
            return text.isEmpty ? "payload" : "field '\(text)'"
        }
        switch self {
        case .typeMismatch(let type, let context): return "\(path(context)): expected \(type)"
        case .valueNotFound(let type, let context): return "\(path(context)): expected \(type), got null"
        case .keyNotFound(let key, let context):
            return "field '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))' is missing"
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(self)"
        }
    }
}

/// A job type the worker can run: its name, policy and handler.
public struct JobDefinition: Sendable {
    public let type: String
    public let policy: JobPolicy
    public let handler: any JobHandler

    public init(type: String, policy: JobPolicy, handler: any JobHandler) {
        self.type = type
        self.policy = policy
        self.handler = handler
    }
}
