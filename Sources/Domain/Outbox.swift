import Foundation
import PostgresClient

/// Rows of the transactional outbox: jobs decided inside a PostgreSQL transaction (a new
/// callback's first dial, a trigger, a recording upload) are written in that same transaction
/// and enqueued by `OutboxRelay`. A crash after the commit delays them; it cannot lose them.
enum Outbox {
    /// - Parameter dedupKey: the job's dedup key; nil for the relay's `<type>:<callback id>`.
    static func add(callbackID: String, type: String, payload: some Encodable, dedupKey: String? = nil, runAt: Date? = nil,
                    on connection: PostgresConnection) async throws {
        try await connection.query("""
            INSERT INTO outbox (callback_id, job_type, payload, run_at, dedup_key) VALUES ($1::uuid, $2, $3::jsonb, $4::timestamptz, $5)
            """, [callbackID, type, try JSONText.encode(payload), runAt.map(Timestamp.text), dedupKey])
    }
}

/// A declared notification rule that fired (`Jobs/notify.sms/triggers.json` names them): the
/// `notify.trigger` job turns it into one SMS or email per recipient. `instance` identifies this
/// firing (a callback; a site, threshold and debit): the same instance notifies once.
public struct Trigger: Codable, Sendable {
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

    func queue(on connection: PostgresConnection) async throws {
        try await Outbox.add(callbackID: callback_id, type: "notify.trigger", payload: self,
                             dedupKey: "notify.trigger:\(trigger):\(instance)", on: connection)
    }
}
