/// A provider (carrier, SMS gateway) call that failed.
public enum ProviderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The provider refused the number for good: never retry.
    case invalidNumber(String)
    /// Unavailable, timed out, or answered an error: a network failure, retried with backoff.
    case unavailable(String)

    public var description: String {
        switch self {
        case .invalidNumber(let detail): "invalid number: \(detail)"
        case .unavailable(let detail): "provider unavailable: \(detail)"
        }
    }
}
