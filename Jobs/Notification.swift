import Domain
import Foundation
import Queue

/// One message to one recipient: the payload of `notify.sms` and `notify.email`. Its effect key
/// (`<channel>:<message>:<callback>:<recipient>`) is also its dedup key, so a trigger seen twice
/// queues it once and a replayed job sends it once.
struct Notification: Codable {
    let site_id: String
    let message: String
    let to: String
    let variables: [String: String]
    let effect_key: String

    func request(type: String, policy: JobPolicy) throws -> JobQueue.Request {
        try JobQueue.Request(type: type, encoding: self, policy: policy, dedupKey: effect_key)
    }
}

extension JobServices {
    /// The notification a job carries, with its site; nil when its effect is already done.
    func pendingNotification(_ job: Job) async throws -> (Notification, Site)? {
        let notification = try job.decode(Notification.self)
        if case .done = try await EffectLedger(database: flow.database).begin(notification.effect_key) { return nil }
        guard let site = try await SiteStore(database: flow.database).find(id: notification.site_id) else {
            throw PermanentJobError("no site \(notification.site_id) for \(notification.effect_key)")
        }
        return (notification, site)
    }

    /// Records the notification's effect as done and the message as sent (`deliveries`).
    func sent(_ notification: Notification, channel: String, providerID: String, detail: String? = nil) async throws {
        try await Deliveries(database: flow.database).recordSent(.init(
            effectKey: notification.effect_key, channel: channel, siteID: notification.site_id, message: notification.message,
            recipient: notification.to, providerID: providerID, detail: detail))
    }
}
