import CryptoPrimitives
import Domain
import Foundation
import HTTPClient
import Providers
import Queue

/// What the callback jobs need from the process that runs them: the dial flow (PostgreSQL and
/// the telephony provider) and the queue, for the jobs that follow.
public struct JobServices: Sendable {
    public let flow: CallbackFlow
    public let jobs: JobQueue
    /// Policies of every catalog type, for follow-up enqueues.
    public let policies: [String: JobPolicy]
    public let sms: any SMSGateway
    public let smtp: SMTPClient
    /// The sender address of notification emails.
    public let mailFrom: String
    public let messages: Messages
    /// Bounds emails per recipient; a throttled email waits for the window.
    public let emailThrottle: RecipientThrottle
    public let recordings: RecordingStorage
    public let reports: ReportTemplates
    /// `REDIAL_UNSAFE_FAIL_DIALS`: the share of `callback.dial` runs a deliberately bad build fails.
    public var dialFailureShare = 0.0

    /// Where call recordings come from and go, and the largest one accepted.
    public struct RecordingStorage: Sendable {
        public let storage: any ObjectStorage
        public let maxBytes: Int
        let source: RecordingSource

        /// - Parameter allowedHosts: the only hosts recordings are downloaded from (lower case).
        public init(storage: any ObjectStorage, maxBytes: Int, allowedHosts: [String]) {
            self.storage = storage
            self.maxBytes = maxBytes
            source = RecordingSource(allowedHosts: allowedHosts)
        }
    }

    public init(flow: CallbackFlow, jobs: JobQueue, policies: [String: JobPolicy], sms: any SMSGateway, smtp: SMTPClient,
                mailFrom: String, messages: Messages, emailThrottle: RecipientThrottle, recordings: RecordingStorage,
                reports: ReportTemplates) {
        self.flow = flow
        self.jobs = jobs
        self.policies = policies
        self.sms = sms
        self.smtp = smtp
        self.mailFrom = mailFrom
        self.messages = messages
        self.emailThrottle = emailThrottle
        self.recordings = recordings
        self.reports = reports
    }

    /// Enqueues the messages a fired trigger sends, one job per recipient and channel, each
    /// under its own effect key (`<channel>:<trigger>:<instance>:<recipient's lookup hash>`), so a
    /// trigger seen twice sends once.
    func notify(_ trigger: Trigger) async throws {
        guard let context = try await flow.context(callbackID: trigger.callback_id) else { return }
        try await notify(trigger, context: context)
    }

    /// `notify` for a caller that already holds the callback's context.
    func notify(_ trigger: Trigger, context: CallbackFlow.Context) async throws {
        guard let rule = messages.rules[trigger.trigger] else { return }
        let settings = context.notifications
        let recipients = !settings.sms(trigger.trigger) ? [] : rule.to == "managers" ? context.managers : [context.owner]
        var variables = ["site": context.siteName, "visitor": context.visitor]
        variables.merge(trigger.variables) { _, new in new }
        func notification<Channel>(_: Channel.Type, to recipient: String) throws -> Notification<Channel> {
            let named = trigger.hashesRecipients ? flow.protection.lookup(recipient) : recipient
            return try Notification(siteID: context.siteID, message: trigger.trigger,
                                    effectKey: "\(Channel.name):\(trigger.trigger):\(trigger.instance):\(named)",
                                    content: .init(to: recipient, variables: variables), protection: flow.protection)
        }
        var all = try recipients.map { try notification(SMSChannel.self, to: $0).request(policies: policies) }
        if rule.email, settings.email(trigger.trigger), let address = context.email {
            all.append(try notification(EmailChannel.self, to: address).request(policies: policies))
        }
        if !all.isEmpty { _ = try await jobs.enqueue(batch: all) }
    }
}
