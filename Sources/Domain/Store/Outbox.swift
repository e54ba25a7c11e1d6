import Foundation
import PostgresClient
import Queue

/// Rows of the transactional outbox: jobs decided inside a PostgreSQL transaction (a new
/// callback's first dial, a trigger, a recording upload) are written in that same transaction
/// and enqueued by the relay (`Relay` module). A crash after the commit delays them; it cannot lose them.
enum Outbox {
    /// - Parameter dedupKey: the job's dedup key; nil for the relay's `<type>:<callback id>`.
    static func add<Args: JobArgs>(_ args: Args, callbackID: String, dedupKey: String? = nil, runAt: Date? = nil,
                                   on connection: PostgresConnection) async throws {
        try await connection.query("""
            INSERT INTO outbox (callback_id, job_type, payload, run_at, dedup_key) VALUES ($1::uuid, $2, $3::jsonb, $4::timestamptz, $5)
            """, [callbackID, Args.jobType, try Job.payload(args), runAt.map(Timestamp.text), dedupKey])
    }
}
