import PostgresClient
import Queue

/// `notify.trigger`: a declared notification rule that fired (`Jobs/notify.sms/triggers.json`
/// names them), which the job turns into one SMS or email per recipient. `instance` identifies
/// this firing (a callback; a site, threshold and debit): the same instance notifies once.
///
/// Version 2: the messages it queues carry their recipient sealed and their effect keys name the
/// recipient by its lookup hash. A version-1 trigger (queued by an older build) keeps the old
/// key form, so a trigger expanded by builds of both kinds still sends each message once.
public struct Trigger: JobArgs {
    public static let jobType = "notify.trigger"
    public static let payloadVersion = 2
    public let trigger: String
    public let callback_id: String
    public let instance: String
    public let variables: [String: String]
    /// nil in a version-1 trigger.
    public let payload_version: Int?

    /// Effect keys name the recipient by its lookup hash, not in clear.
    public var hashesRecipients: Bool { (payload_version ?? 1) >= 2 }

    public init(name: String, callbackID: String, instance: String, variables: [String: String]) {
        trigger = name
        callback_id = callbackID
        self.instance = instance
        self.variables = variables
        payload_version = Self.payloadVersion
    }

    /// The trigger's dedup key: one job per firing.
    public var dedupKey: String { "\(Self.jobType):\(trigger):\(instance)" }

    func queue(on connection: PostgresConnection) async throws {
        try await Outbox.add(self, callbackID: callback_id, dedupKey: dedupKey, on: connection)
    }
}
