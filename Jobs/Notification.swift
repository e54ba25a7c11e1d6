import Domain
import Foundation
import Queue

/// One message to one recipient: the args of `notify.sms` and `notify.email`, one shape for
/// both channels. Its effect key (`<channel>:<message>:<instance>:<recipient>`) is also its dedup
/// key, so a trigger seen twice queues it once and a replayed job sends it once.
struct Notification<Channel: NotificationChannel>: JobArgs {
    static var jobType: String { Channel.jobType }
    let site_id: String
    let message: String
    let to: String
    let variables: [String: String]
    let effect_key: String

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
    /// The notification's site; nil when its effect is already done.
    func pendingSite<Channel>(_ notification: Notification<Channel>) async throws -> Site? {
        if case .done = try await EffectLedger(database: flow.database).begin(notification.effect_key) { return nil }
        guard let site = try await SiteStore(database: flow.database).find(id: notification.site_id) else {
            throw PermanentJobError("no site \(notification.site_id) for \(notification.effect_key)")
        }
        return site
    }

    /// Records the notification's effect as done and the message as sent (`deliveries`).
    func sent<Channel>(_ notification: Notification<Channel>, providerID: String, detail: String? = nil) async throws {
        try await Deliveries(database: flow.database).recordSent(.init(
            effectKey: notification.effect_key, channel: Channel.name, siteID: notification.site_id, message: notification.message,
            recipient: notification.to, providerID: providerID, detail: detail, releaseChannel: jobs.channel.rawValue))
    }
}
