/// A domain rule was broken; `field` names the input at fault when there is one.
public struct DomainError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalid
        case notFound = "not_found"
        case conflict
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
