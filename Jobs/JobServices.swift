import Domain
import Foundation
import HTTPClient
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

    public init(flow: CallbackFlow, jobs: JobQueue, policies: [String: JobPolicy], sms: any SMSGateway, smtp: SMTPClient,
                mailFrom: String, messages: Messages) {
        self.flow = flow
        self.jobs = jobs
        self.policies = policies
        self.sms = sms
        self.smtp = smtp
        self.mailFrom = mailFrom
        self.messages = messages
    }

    /// Enqueues a follow-up job under a dedup key, and records it as the job that should move
    /// the callback on (the reconciler checks it is alive).
    func follow(callbackID: String, type: String, payload: [String: Any], delay: Duration, dedupKey: String) async throws {
        guard let policy = policies[type] else { throw PermanentJobError("no policy for follow-up job type \(type)") }
        let text = String(decoding: try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys]), as: UTF8.self)
        _ = try await jobs.enqueue(.init(type: type, payload: text, policy: policy, delay: delay, dedupKey: dedupKey))
        try await flow.expectJob(callbackID: callbackID, key: dedupKey)
    }

    /// The jobs that follow a finished attempt: a redial, or the managers' SMS when it failed.
    func after(callbackID: String, _ next: CallbackFlow.Next) async throws {
        switch next {
        case .redial(let delay, let attempt):
            try await follow(callbackID: callbackID, type: "callback.dial", payload: ["callback_id": callbackID], delay: delay,
                             dedupKey: "callback.dial:\(callbackID):\(attempt)")
        case .failed(let reason):
            try await notify("callback_failed", callbackID: callbackID) { _ in ["reason": reason.replacingOccurrences(of: "_", with: " ")] }
        case .completed, .unchanged:
            break
        }
    }

    /// Enqueues the SMS a trigger rule sends, one per recipient, each under its own effect key
    /// (`sms:<message>:<callback>:<recipient>`), so a trigger seen twice sends once.
    func notify(_ message: String, callbackID: String, variables: (CallbackFlow.Context) -> [String: String]) async throws {
        guard let rule = messages.rules[message], let policy = policies["notify.sms"],
              let context = try await flow.context(callbackID: callbackID) else { return }
        let recipients = rule.to == "managers" ? context.managers : []
        var common = ["site": context.siteName, "visitor": context.visitor]
        common.merge(variables(context)) { _, new in new }
        func notification(_ channel: String, to recipient: String) -> Notification {
            Notification(site_id: context.siteID, message: message, to: recipient, variables: common,
                         effect_key: "\(channel):\(message):\(callbackID):\(recipient)")
        }
        var all = try recipients.map { try notification("sms", to: $0).request(type: "notify.sms", policy: policy) }
        if rule.email, let address = context.email, let emailPolicy = policies["notify.email"] {
            all.append(try notification("email", to: address).request(type: "notify.email", policy: emailPolicy))
        }
        if !all.isEmpty { _ = try await jobs.enqueue(batch: all) }
    }

    /// How long after placing a call to poll for it if no webhook came: ring plus talk time.
    static let firstCheck: Duration = .seconds(45)
}

/// Stands in for a callback handler in a process without PostgreSQL or a provider (`redial
/// enqueue`, the relay): such a process reads the catalog for policies and never runs jobs.
struct Unavailable: JobHandler {
    let type: String
    func run(_ job: Job) async throws -> JobOutcome {
        throw PermanentJobError("\(type) cannot run in this process: it was started without the dial flow")
    }
}
