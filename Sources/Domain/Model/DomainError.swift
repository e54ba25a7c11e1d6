/// A domain rule was broken, or a service it needs failed; `field` names the input at fault when there is one.
public struct DomainError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalid
        case notFound = "not_found"
        case conflict
        /// A service the rule depends on (object storage, a provider) failed; worth retrying.
        case unavailable
    }

    public let code: Code
    public let message: String
    public let field: String?

    public init(_ code: Code, _ message: String, field: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String { message }
}
