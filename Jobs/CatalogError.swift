/// A policy file that cannot be used: names the file, the field and the problem.
public struct CatalogError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let field: String?
    public let problem: String

    public init(file: String, field: String? = nil, _ problem: String) {
        self.file = file
        self.field = field
        self.problem = problem
    }

    public var description: String {
        "\(file): " + (field.map { "field '\($0)': " } ?? "") + problem
    }
}
