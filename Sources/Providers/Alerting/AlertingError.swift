/// A call to Alertmanager or Prometheus that failed, or a request they would refuse; reads well
/// on a terminal and on a console page.
public struct AlertingError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
