import CryptoPrimitives
import Domain
import Foundation
import Queue

/// One message to one recipient: the args of `notify.sms` and `notify.email`, one shape for
/// both channels. Its effect key (`<channel>:<message>:<instance>:<recipient's lookup hash>`) is
/// also its dedup key, so a trigger seen twice queues it once and a replayed job sends it once.
///
/// Version 2 keeps the recipient and the variables (the visitor's number) sealed in `sealed`,
/// with the job type as associated data: Redis holds no number in clear. A version-1 job (queued
/// by an older build) has them in clear and is still read.
struct Notification<Channel: NotificationChannel>: JobArgs {
    static var jobType: String { Channel.jobType }
    static var payloadVersion: Int { 2 }
    let site_id: String
    let message: String
    let effect_key: String
    let sealed: String?
    let to: String?
    let variables: [String: String]?

    /// What a notification says and to whom: sealed in the payload.
    struct Content: Codable, Sendable {
        let to: String
        let variables: [String: String]
    }

    init(siteID: String, message: String, effectKey: String, content: Content, protection: DataProtection) throws {
        site_id = siteID
        self.message = message
        effect_key = effectKey
        sealed = try protection.seal(String(decoding: try JSONEncoder().encode(content), as: UTF8.self), field: Channel.jobType)
        to = nil
        variables = nil
    }

    /// The recipient and variables: opened, or as a version-1 payload has them.
    func content(_ protection: DataProtection) throws -> Content {
        if let sealed { return try JSONDecoder().decode(Content.self, from: Data(try protection.open(sealed, field: Channel.jobType).utf8)) }
        guard let to, let variables else { throw PermanentJobError("\(Channel.jobType) payload has neither sealed nor clear content") }
        return Content(to: to, variables: variables)
    }

    /// A stored payload with its content sealed under the sealing key: one an older key sealed, or
    /// a version-1 payload's clear `to` and `variables` (which become version 2; the effect key
    /// stays, so the message still goes once). nil when it is already current.
    static func resealed(_ payload: String, protection: DataProtection) throws -> String? {
        guard var object = try JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] else { return nil }
        if let sealed = object["sealed"] as? String {
            guard protection.needsResealing(sealed) else { return nil }
            object["sealed"] = try protection.reseal(sealed, field: Channel.jobType)
        } else {
            guard let to = object["to"] as? String, let variables = object["variables"] as? [String: String] else { return nil }
            let content = String(decoding: try JSONEncoder().encode(Content(to: to, variables: variables)), as: UTF8.self)
            object["sealed"] = try protection.seal(content, field: Channel.jobType)
            object["to"] = nil
            object["variables"] = nil
            object["payload_version"] = payloadVersion
        }
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    func request(policies: [String: JobPolicy]) throws -> JobQueue.Request {
        try JobQueue.Request(self, policies: policies, dedupKey: effect_key)
    }
}

/// How a notification travels: its job type and the word its effect keys start with.
protocol NotificationChannel: Sendable {
    static var jobType: String { get }
    static var name: String { get }
}

enum SMSChannel: NotificationChannel {
    static let jobType = "notify.sms"
    static let name = "sms"
}

enum EmailChannel: NotificationChannel {
    static let jobType = "notify.email"
    static let name = "email"
}

extension JobServices {
    /// Sealed personal data: PostgreSQL columns and job payloads.
    var protection: DataProtection { flow.protection }

    /// The notification's site; nil when its effect is already done.
    func pendingSite<Channel>(_ notification: Notification<Channel>) async throws -> Site? {
        if case .done = try await EffectLedger(database: flow.database).begin(notification.effect_key) { return nil }
        guard let site = try await SiteStore(database: flow.database, protection: protection).find(id: notification.site_id) else {
            throw PermanentJobError("no site \(notification.site_id) for \(notification.effect_key)")
        }
        return site
    }

    /// Records the notification's effect as done and the message as sent (`deliveries`).
    func sent<Channel>(_ notification: Notification<Channel>, to recipient: String, providerID: String, detail: String? = nil) async throws {
        try await Deliveries(database: flow.database, protection: protection).recordSent(.init(
            effectKey: notification.effect_key, channel: Channel.name, siteID: notification.site_id, message: notification.message,
            recipient: recipient, providerID: providerID, detail: detail, releaseChannel: jobs.channel.rawValue))
    }
}
