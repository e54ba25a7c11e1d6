import Domain
import Foundation
import Hummingbird
import Logging

/// The owner's settings forms: each reads its fields, lets `SiteStore` validate and save them
/// (a bad value is a `DomainError` naming its field, and nothing is saved), and logs who changed
/// what.
extension CabinetRoutes {
    func saveWidget(_ form: [String: String], _ site: Site, _ session: OwnerSessions.Session) async throws -> Response {
        var settings = site.widget
        settings.color = form["color"] ?? settings.color
        settings.position = WidgetSettings.Position(rawValue: form["position"] ?? "") ?? settings.position
        settings.buttonText = Self.text(form["button_text"])
        settings.openAfterSeconds = try Self.number(form["open_after_s"], field: "open_after_s")
        _ = try await sites.setWidget(id: site.id, settings)
        return saved(site, session, "widget")
    }

    func saveHours(_ form: [String: String], _ site: Site, _ session: OwnerSessions.Session) async throws -> Response {
        var days: [Int: WorkingHours.Span] = [:]
        for day in 1...7 where form["open_\(day)"] != nil {
            do {
                days[day] = try WorkingHours.span(open: form["from_\(day)"] ?? "", close: form["to_\(day)"] ?? "")
            } catch {
                throw DomainError(.invalid, "\(Self.weekdays[day - 1]): \(error.message)", field: "hours")
            }
        }
        _ = try await sites.setHours(id: site.id, timeZone: form["timezone"] ?? site.timeZone.identifier, WorkingHours(days: days))
        return saved(site, session, "working hours")
    }

    func saveManagers(_ form: [String: String], _ site: Site, _ session: OwnerSessions.Session) async throws -> Response {
        let phones = (form["managers"] ?? "").split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        _ = try await sites.setManagers(id: site.id, phones)
        return saved(site, session, "managers")
    }

    func saveLimits(_ form: [String: String], _ site: Site, _ session: OwnerSessions.Session) async throws -> Response {
        var overrides: [String: Int] = [:]
        for (field, _) in Self.limitLabels {
            overrides[field] = try Self.number(form[field], field: field)
        }
        _ = try await sites.setLimits(id: site.id, overrides)
        return saved(site, session, "limits")
    }

    func saveNotifications(_ form: [String: String], _ site: Site, _ session: OwnerSessions.Session) async throws -> Response {
        var settings = NotificationSettings()
        for event in NotificationSettings.events {
            if form["sms_\(event.name)"] == nil { settings.smsOff.insert(event.name) }
            if event.byEmail, form["email_\(event.name)"] == nil { settings.emailOff.insert(event.name) }
        }
        settings.dailyReport = form["daily_report"] != nil
        settings.weeklyReport = form["weekly_report"] != nil
        let levels = try (form["thresholds"] ?? "").split(separator: ",").map { text throws(DomainError) in
            guard let level = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw DomainError(.invalid, "low-balance: expected minutes separated by commas, got '\(text.prefix(20))'", field: "low-balance")
            }
            return level
        }
        _ = try await sites.setNotifications(id: site.id, ownerPhone: Self.text(form["owner_phone"]), lowBalanceThresholds: levels, settings)
        return saved(site, session, "notifications")
    }

    private func saved(_ site: Site, _ session: OwnerSessions.Session, _ what: String) -> Response {
        logger.notice("cabinet: \(session.email) changed the \(what) of site \(site.id)")
        return Self.done(site, "\(what) saved")
    }

    /// A form's text, trimmed; nil when empty.
    static func text(_ value: String?) -> String? {
        let text = (value ?? "").trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? nil : text
    }

    /// A form's whole number; nil when empty.
    static func number(_ value: String?, field: String) throws(DomainError) -> Int? {
        guard let text = text(value) else { return nil }
        guard let number = Int(text) else { throw DomainError(.invalid, "\(field): expected a whole number, got '\(text.prefix(20))'", field: field) }
        return number
    }
}
