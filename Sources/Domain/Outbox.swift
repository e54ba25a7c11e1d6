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

/// What a `callback.dial` job carries, built here only: the callback, and the attempt the job
/// was made for (nil for the reconciler's "whatever is due"), so a stale job does nothing.
public struct DialPayload: Codable, Sendable {
    public let callback_id: CallbackID
    public let attempt: Int?

    /// The dedup key of the job for attempt n (the first attempt's is the callback's own).
    static func dedupKey(_ callbackID: String, attempt: Int) -> String {
        attempt == 1 ? "callback.dial:\(callbackID)" : "callback.dial:\(callbackID):\(attempt)"
    }

    /// Writes attempt n's dial job to the outbox and names it as the job that moves the callback
    /// on, both inside the caller's transaction (the decision that made it).
    static func queue(callbackID: String, attempt: Int, runAt: Date? = nil, on connection: PostgresConnection) async throws {
        let key = dedupKey(callbackID, attempt: attempt)
        try await Outbox.add(callbackID: callbackID, type: "callback.dial", payload: DialPayload(callback_id: try CallbackID(callbackID), attempt: attempt),
                             dedupKey: key, runAt: runAt, on: connection)
        try await connection.query("UPDATE callbacks SET job_key = $2, updated_at = now() WHERE id = $1::uuid", [callbackID, key])
    }
}

/// What a `callback.check` job carries: the attempt whose call to poll.
public struct CheckPayload: Codable, Sendable {
    public let callback_id: CallbackID
    public let attempt: Int
    public let call_id: String

    /// How long after placing a call to poll for it if no webhook came: ring plus talk time.
    static let firstCheck: Duration = .seconds(45)

    static func queue(callbackID: String, attempt: Int, callID: String, on connection: PostgresConnection) async throws {
        let key = "callback.check:\(callbackID):\(attempt)"
        try await Outbox.add(callbackID: callbackID, type: "callback.check",
                             payload: CheckPayload(callback_id: try CallbackID(callbackID), attempt: attempt, call_id: callID),
                             dedupKey: key, runAt: Date().addingTimeInterval(Double(firstCheck.components.seconds)), on: connection)
        try await connection.query("UPDATE callbacks SET job_key = $2, updated_at = now() WHERE id = $1::uuid", [callbackID, key])
    }
}
