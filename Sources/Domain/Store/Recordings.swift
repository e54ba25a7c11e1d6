import HTTPClient
import PostgresClient
import Providers

/// The `recordings` table: call recordings copied to object storage, with the SHA-256 they were
/// verified against, and their deletion once past the site's retention.
public struct Recordings: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    public static func effectKey(callbackID: String, attempt: Int) -> String { "recording:\(callbackID):\(attempt)" }

    /// The site a callback belongs to, or nil for an unknown callback.
    public func site(callbackID: String) async throws -> String? {
        guard UUIDText.isValid(callbackID) else { return nil }
        return try await database.query("SELECT site_id::text AS id FROM callbacks WHERE id = $1::uuid", [callbackID]).first?.decode("id")
    }

    public struct Uploaded: Sendable {
        public let callbackID: String
        public let attempt: Int
        public let siteID: String
        public let sourceURL: String
        public let bucket: String
        public let stored: StoredObject

        public init(callbackID: String, attempt: Int, siteID: String, sourceURL: String, bucket: String, stored: StoredObject) {
            self.callbackID = callbackID
            self.attempt = attempt
            self.siteID = siteID
            // A provider's signed link carries its token in the query: the record keeps the place, not the key.
            self.sourceURL = URLParts.redacted(sourceURL)
            self.bucket = bucket
            self.stored = stored
        }
    }

    /// Records the upload and marks its effect done, in one transaction.
    public func record(_ upload: Uploaded) async throws {
        try await database.transaction { connection in
            try await connection.query("""
                INSERT INTO recordings (callback_id, attempt, site_id, source_url, bucket, object_key, size_bytes, sha256, etag, parts)
                VALUES ($1::uuid, $2, $3::uuid, $4, $5, $6, $7, $8, $9, $10)
                ON CONFLICT (callback_id, attempt) DO UPDATE SET object_key = excluded.object_key, size_bytes = excluded.size_bytes,
                    sha256 = excluded.sha256, etag = excluded.etag, parts = excluded.parts, uploaded_at = now()
                """, [upload.callbackID, upload.attempt, upload.siteID, upload.sourceURL, upload.bucket, upload.stored.key,
                      upload.stored.size, upload.stored.sha256, upload.stored.etag, upload.stored.parts])
            try await EffectLedger.complete(Self.effectKey(callbackID: upload.callbackID, attempt: upload.attempt),
                                            result: ["key": upload.stored.key, "sha256": upload.stored.sha256], on: connection)
        }
    }

    /// Recordings past their site's retention and not yet deleted, oldest first.
    public func expired(limit: Int) async throws -> [(callbackID: String, attempt: Int, key: String)] {
        try await database.query("""
            SELECT r.callback_id::text AS callback_id, r.attempt, r.object_key FROM recordings r JOIN sites s ON s.id = r.site_id
            WHERE r.deleted_at IS NULL AND r.uploaded_at < now() - make_interval(days => s.recording_retention_days)
            ORDER BY r.uploaded_at LIMIT $1
            """, [limit]).map { (try $0.decode("callback_id"), try $0.decode("attempt"), try $0.decode("object_key")) }
    }

    public func markDeleted(callbackID: String, attempt: Int) async throws {
        try await database.query("UPDATE recordings SET deleted_at = now() WHERE callback_id = $1::uuid AND attempt = $2 AND deleted_at IS NULL",
                                 [callbackID, attempt])
    }
}
