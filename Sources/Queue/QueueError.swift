/// A queue operation that could not be done; `description` names the job, the operation and
/// what was found, for a log line or an operator.
public struct QueueError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidRequest = "invalid_request"
        case unknownJobType = "unknown_job_type"
        case notFound = "not_found"
        /// Preflight found Redis unfit for production.
        case unsafeRedis = "unsafe_redis"
        case unexpectedReply = "unexpected_reply"
        /// The write reached fewer replicas than it must (`WAIT`): it does not count; retry.
        case notReplicated = "not_replicated"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "queue \(code.rawValue): \(message)" }
}
