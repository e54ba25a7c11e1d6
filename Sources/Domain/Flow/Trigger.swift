import PostgresClient
import Queue

/// `notify.trigger`: a declared notification rule that fired (`Jobs/notify.sms/triggers.json`
/// names them), which the job turns into one SMS or email per recipient. `instance` identifies
/// this firing (a callback; a site, threshold and debit): the same instance notifies once.
public struct Trigger: JobArgs {
    public static let jobType = "notify.trigger"
    public let trigger: String
    public let callback_id: String
    public let instance: String
    public let variables: [String: String]

    public init(name: String, callbackID: String, instance: String, variables: [String: String]) {
        trigger = name
        callback_id = callbackID
        self.instance = instance
        self.variables = variables
    }

    /// The trigger's dedup key: one job per firing.
    public var dedupKey: String { "\(Self.jobType):\(trigger):\(instance)" }

    func queue(on connection: PostgresConnection) async throws {
        try await Outbox.add(self, callbackID: callback_id, dedupKey: dedupKey, on: connection)
    }
}
