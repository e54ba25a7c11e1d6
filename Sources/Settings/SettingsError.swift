/// Configuration that cannot be used; lists every problem found, one per line.
public struct SettingsError: Error, Sendable, CustomStringConvertible {
    public let problems: [String]

    public init(_ problem: String) { problems = [problem] }
    public init(problems: [String]) { self.problems = problems }

    public var description: String {
        "invalid configuration:\n" + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}
