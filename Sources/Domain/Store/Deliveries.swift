import CryptoPrimitives
import PostgresClient
import Providers

/// The `deliveries` table: one row per SMS or email sent, written in the transaction that marks
/// its effect done, and updated as the provider reports delivery. The recipient is sealed.
public struct Deliveries: Sendable {
    public let database: PostgresPool
    public let protection: DataProtection

    public init(database: PostgresPool, protection: DataProtection) {
        self.database = database
        self.protection = protection
    }

    public struct Sent: Sendable {
        public let effectKey: String
        public let channel: String
        public let siteID: String
        public let message: String
        public let recipient: String
        public let providerID: String
        public let detail: String?
        /// The release channel of the worker that sent it ("production" or "beta").
        public let releaseChannel: String

        public init(effectKey: String, channel: String, siteID: String, message: String, recipient: String, providerID: String,
                    detail: String? = nil, releaseChannel: String) {
            self.effectKey = effectKey
            self.channel = channel
            self.siteID = siteID
            self.message = message
            self.recipient = recipient
            self.providerID = providerID
            self.detail = detail
            self.releaseChannel = releaseChannel
        }
    }

    /// Marks the message's effect done and records it as sent, in one transaction.
    public func recordSent(_ sent: Sent) async throws {
        try await database.transaction { connection in
            try await EffectLedger.complete(sent.effectKey, result: ["provider_id": sent.providerID], on: connection)
            try await connection.query("""
                INSERT INTO deliveries (effect_key, channel, site_id, message, recipient, provider_id, status, detail, release_channel)
                VALUES ($1, $2, $3::uuid, $4, $5, $6, 'sent', $7, $8) ON CONFLICT (effect_key) DO NOTHING
                """, [sent.effectKey, sent.channel, sent.siteID, sent.message, try protection.seal(sent.recipient, .deliveryRecipient),
                      sent.providerID, sent.detail,
                      sent.releaseChannel])
        }
    }

    public func update(_ effectKey: String, to status: DeliveryStatus) async throws {
        try await database.query("UPDATE deliveries SET status = $2, detail = $3, status_at = now() WHERE effect_key = $1",
                                 [effectKey, status.state.rawValue, status.detail])
    }
}
