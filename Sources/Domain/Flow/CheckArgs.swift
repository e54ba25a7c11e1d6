import Foundation
import PostgresClient
import Queue

/// `callback.check`: the attempt whose call to poll when no webhook says how it ended.
public struct CheckArgs: JobArgs {
    public static let jobType = "callback.check"
    public let callback_id: CallbackID
    public let attempt: Int
    public let call_id: String

    /// How long after placing a call to poll for it if no webhook came: ring plus talk time.
    static let firstCheck: Duration = .seconds(45)

    static func queue(callbackID: String, attempt: Int, callID: String, on connection: PostgresConnection) async throws {
        let key = "\(jobType):\(callbackID):\(attempt)"
        try await Outbox.add(CheckArgs(callback_id: try CallbackID(callbackID), attempt: attempt, call_id: callID), callbackID: callbackID,
                             dedupKey: key, runAt: Date().addingTimeInterval(Double(firstCheck.components.seconds)), on: connection)
        try await connection.query("UPDATE callbacks SET job_key = $2, updated_at = now() WHERE id = $1::uuid", [callbackID, key])
    }
}
