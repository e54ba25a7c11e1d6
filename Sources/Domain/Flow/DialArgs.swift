import Foundation
import PostgresClient
import Queue

/// `callback.dial`: the callback, and the attempt the job was made for (nil for the
/// reconciler's "whatever is due"), so a stale job does nothing.
public struct DialArgs: JobArgs {
    public static let jobType = "callback.dial"
    public let callback_id: CallbackID
    public let attempt: Int?

    public init(callbackID: CallbackID, attempt: Int?) {
        callback_id = callbackID
        self.attempt = attempt
    }

    /// The dedup key of the job for attempt n (the first attempt's is the callback's own).
    public static func dedupKey(_ callbackID: String, attempt: Int) -> String {
        attempt == 1 ? "\(jobType):\(callbackID)" : "\(jobType):\(callbackID):\(attempt)"
    }

    /// The dedup key of the reconciler's job for a callback last moved at `updated` (epoch s).
    public static func reconciledKey(_ callbackID: String, updated: Int64) -> String {
        "\(jobType):\(callbackID):reconciled:\(updated)"
    }

    /// Writes attempt n's dial job to the outbox and names it as the job that moves the callback
    /// on, both inside the caller's transaction (the decision that made it).
    static func queue(callbackID: String, attempt: Int, runAt: Date? = nil, on connection: PostgresConnection) async throws {
        let key = dedupKey(callbackID, attempt: attempt)
        try await Outbox.add(DialArgs(callbackID: try CallbackID(callbackID), attempt: attempt), callbackID: callbackID,
                             dedupKey: key, runAt: runAt, on: connection)
        try await connection.query("UPDATE callbacks SET job_key = $2, updated_at = now() WHERE id = $1::uuid", [callbackID, key])
    }
}
