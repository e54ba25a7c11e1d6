import Foundation

/// The typed payload of one job type (River's `JobArgs`): a `Codable` value whose static
/// `jobType` names the type. The same value is what an enqueue sends and what the handler
/// receives, so a job type's name and payload shape are written down once.
public protocol JobArgs: Codable, Sendable {
    /// The job type, as its policy file names it (`callback.dial`).
    static var jobType: String { get }
    /// Raised when the payload changes in a way an older handler would misread; written into
    /// the payload as `payload_version` (from 2 on), so an older worker hands such a job back
    /// for a newer one instead of running it. Default 1.
    static var payloadVersion: Int { get }
}

extension JobArgs {
    public static var payloadVersion: Int { 1 }
}

/// A job whose payload is newer than its handler reads: handed back, like an unknown type.
public struct NewerPayloadError: Error, Sendable, CustomStringConvertible {
    public let type: String
    public let version: Int
    public let known: Int

    public var description: String {
        "payload version \(version) of \(type) is newer than this worker's \(known)"
    }
}

/// Reads only `payload_version` of a payload.
private struct PayloadVersion: Decodable {
    let payload_version: Int?
}

extension JobQueue.Request {
    /// A request for `args` under its type's policy.
    public init<Args: JobArgs>(_ args: Args, policy: JobPolicy, delay: Duration = .zero, dedupKey: String? = nil) throws {
        try self.init(type: Args.jobType, encoding: args, policy: policy, delay: delay, dedupKey: dedupKey)
        payload = try Job.versioned(payload, Args.self)
    }

    /// A request for `args` with the policy its type has in `policies`; a type without one is a
    /// configuration error named in the thrown message.
    public init<Args: JobArgs>(_ args: Args, policies: [String: JobPolicy], delay: Duration = .zero, dedupKey: String? = nil) throws {
        guard let policy = policies[Args.jobType] else {
            throw QueueError(.invalidRequest, "no policy for job type \(Args.jobType) in the catalog")
        }
        try self.init(args, policy: policy, delay: delay, dedupKey: dedupKey)
    }
}

extension Job {
    /// `args` as a payload: JSON, with `payload_version` when the type's is above 1. Every
    /// writer of a payload (an enqueue, an outbox row) goes through it.
    public static func payload<Args: JobArgs>(_ args: Args) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try versioned(String(decoding: try encoder.encode(args), as: UTF8.self), Args.self)
    }

    static func versioned<Args: JobArgs>(_ payload: String, _: Args.Type) throws -> String {
        guard Args.payloadVersion > 1, var object = try JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] else {
            return payload
        }
        object["payload_version"] = Args.payloadVersion
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    static let payloadVersionKey = Array(#""payload_version""#.utf8)

    /// The job's payload as `Args`; a payload that does not fit, or a job of another type, is a
    /// permanent failure naming the type and what is wrong, never a crash and never a retry loop.
    public func args<Args: JobArgs>(_: Args.Type) throws -> Args {
        guard type == Args.jobType else {
            throw PermanentJobError("a \(type) job was given to the \(Args.jobType) handler")
        }
        // Only a payload that names a version pays for reading it; the look is a byte search.
        if payload.firstRange(of: Self.payloadVersionKey) != nil,
           let version = (try? JSONDecoder().decode(PayloadVersion.self, from: Data(payload)))?.payload_version, version > Args.payloadVersion {
            throw NewerPayloadError(type: type, version: version, known: Args.payloadVersion)
        }
        return try decode(Args.self)
    }
}
