import Domain
import Foundation
import HTTPClient
import Mustache
import Queue

/// `report.email` (`{"site_id", "period": "daily"|"weekly", "from", "to"}`, local dates, `to`
/// exclusive): the site's figures for the period as an HTML email in its language, with every
/// callback of the period as a CSV attachment, sent once (effect `report:<period>:<site>:<from>`).
struct ReportEmailJob: ServiceJob {
    let services: JobServices
    static var policyFile: [UInt8] { PackageResources.report_email_policy_json }

    struct Args: JobArgs {
        static let jobType = "report.email"
        let site_id: String
        let period: String
        let from: String
        let to: String

        var effectKey: String { "report:\(period):\(site_id):\(from)" }
    }

    func work(_ payload: Args, job: Job) async throws -> JobOutcome {
        guard ["daily", "weekly"].contains(payload.period) else { throw PermanentJobError("period '\(payload.period)' is not daily or weekly") }
        for date in [payload.from, payload.to] where date.wholeMatch(of: /\d{4}-\d{2}-\d{2}/) == nil {
            throw PermanentJobError("'\(date)' is not a YYYY-MM-DD date")
        }
        let database = services.flow.database
        if case .done = try await EffectLedger(database: database).begin(payload.effectKey) { return .completed }
        guard let report = try await SiteReport.make(database: database, protection: services.flow.protection, siteID: payload.site_id, from: payload.from, to: payload.to) else {
            throw PermanentJobError("no site \(payload.site_id)")
        }
        guard let address = report.email else {
            try await EffectLedger(database: database).complete(payload.effectKey, result: ["skipped": "the site has no email address"])
            return .completed
        }
        let rendered = try services.reports.render(report, period: payload.period)
        let csv = MailMessage.Attachment(filename: "callbacks-\(payload.period)-\(payload.from).csv", contentType: "text/csv; charset=utf-8",
                                         data: Array(report.csv.utf8))
        return try await services.sendEmail(to: address, subject: rendered.subject, text: rendered.text, html: rendered.html,
                                            attachments: [csv], effectKey: payload.effectKey, siteID: payload.site_id,
                                            message: "report_\(payload.period)")
    }
}

/// The report email's templates (`Jobs/report.email/templates/report.<en|ru>.<subject|html>.mustache`),
/// checked at start-up against the variables a report provides.
public struct ReportTemplates: Sendable {
    let templates: [String: MustacheTemplate]

    static let variables: Set<String> = ["site", "period", "from", "to", "callbacks", "completed", "failed", "answered_rate",
                                          "median_first_ring", "minutes_used", "balance", "daily", "weekly"]

    public static func load() throws(CatalogError) -> ReportTemplates {
        let files: [(String, [UInt8])] = [
            ("report.en.subject.mustache", PackageResources.report_en_subject_mustache),
            ("report.ru.subject.mustache", PackageResources.report_ru_subject_mustache),
            ("report.en.html.mustache", PackageResources.report_en_html_mustache),
            ("report.ru.html.mustache", PackageResources.report_ru_html_mustache),
        ]
        var templates: [String: MustacheTemplate] = [:]
        for (name, bytes) in files {
            let path = "Jobs/report.email/templates/\(name)"
            let text = String(decoding: bytes, as: UTF8.self)
            for tag in Messages.tags(in: text).map({ $0.trimmingCharacters(in: CharacterSet(charactersIn: "#/^")) }) where !variables.contains(tag) {
                throw CatalogError(file: path, field: tag, "the template uses a variable a report does not have (known: \(variables.sorted().joined(separator: ", ")))")
            }
            do {
                templates[String(name.dropLast(".mustache".count))] = try MustacheTemplate(string: text)
            } catch {
                throw CatalogError(file: path, "not a valid Mustache template: \(error)")
            }
        }
        return ReportTemplates(templates: templates)
    }

    /// Subject, plain text and HTML of `report` in its site's language.
    func render(_ report: SiteReport, period: String) throws -> (subject: String, text: String, html: String) {
        let language = ["en", "ru"].contains(report.language) ? report.language : "en"
        guard let subject = templates["report.\(language).subject"], let html = templates["report.\(language).html"] else {
            throw PermanentJobError("no report template for '\(language)'")
        }
        let values: [String: Any] = [
            "site": report.siteName, "period": period, "from": report.from, "to": report.to,
            "callbacks": report.callbacks, "completed": report.completed, "failed": report.failed,
            "answered_rate": report.answeredRate.map { String(format: "%.1f%%", $0 * 100) } ?? "—",
            "median_first_ring": report.medianSecondsToFirstRing.map { String(format: "%.1f s", $0) } ?? "—",
            "minutes_used": report.minutesUsed, "balance": report.balanceMinutes,
            "daily": period == "daily", "weekly": period == "weekly",
        ]
        let text = """
            \(report.siteName), \(report.from) – \(report.to) (\(period))
            callbacks: \(report.callbacks); completed: \(report.completed); failed: \(report.failed)
            answered rate: \(values["answered_rate"]!); median time to first ring: \(values["median_first_ring"]!)
            minutes used: \(report.minutesUsed); balance: \(report.balanceMinutes)
            Every callback of the period is in the attached CSV.
            """
        return (subject.render(values).trimmingCharacters(in: .whitespacesAndNewlines), text, html.render(values))
    }
}
