import Foundation

/// The typed payload of one job type (River's `JobArgs`): a `Codable` value whose static
/// `jobType` names the type. The same value is what an enqueue sends and what the handler
/// receives, so a job type's name and payload shape are written down once.
public protocol JobArgs: Codable, Sendable {
    /// The job type, as its policy file names it (`callback.dial`).
    static var jobType: String { get }
}

extension JobQueue.Request {
    /// A request for `args` under its type's policy.
    public init<Args: JobArgs>(_ args: Args, policy: JobPolicy, delay: Duration = .zero, dedupKey: String? = nil) throws {
        try self.init(type: Args.jobType, encoding: args, policy: policy, delay: delay, dedupKey: dedupKey)
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
    /// The job's payload as `Args`; a payload that does not fit, or a job of another type, is a
    /// permanent failure naming the type and what is wrong, never a crash and never a retry loop.
    public func args<Args: JobArgs>(_: Args.Type) throws -> Args {
        guard type == Args.jobType else {
            throw PermanentJobError("a \(type) job was given to the \(Args.jobType) handler")
        }
        return try decode(Args.self)
    }
}
