import Domain
import Queue

/// `notify.email` (a `Notification`): renders subject, text and HTML in the site's language and
/// sends the email over SMTP, once per effect key (`JobServices.sendEmail`: Message-ID from the
/// effect key, per-recipient throttle, delivery recorded).
struct NotifyEmailJob: ServiceJob {
    typealias Args = Notification<EmailChannel>
    let services: JobServices
    static var policyFile: [UInt8] { PackageResources.notify_email_policy_json }

    func work(_ notification: Args, job: Job) async throws -> JobOutcome {
        guard let site = try await services.pendingSite(notification) else { return .completed }
        let messages = services.messages
        let content = try notification.content(services.protection)
        func render(_ part: String?) throws -> String {
            try messages.render(notification.message, language: site.language, part: part, variables: content.variables)
        }
        return try await services.sendEmail(to: content.to, subject: try render("subject"), text: try render(nil),
                                            html: try render("html"), effectKey: notification.effect_key, siteID: notification.site_id,
                                            message: notification.message)
    }
}
