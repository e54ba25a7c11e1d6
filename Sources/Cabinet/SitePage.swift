import Domain
import Foundation
import Hummingbird
import PostgresClient

/// One site's page in the cabinet: what it shows and the values of its settings' forms.
extension CabinetRoutes {
    static let weekdays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    static let eventLabels = [
        "callback_failed": "A callback ran out of attempts (to the managers)",
        "after_hours": "A request came in outside working hours (to the managers)",
        "low_balance": "The balance fell to a warning level (to the owner)",
    ]
    /// `IntakeLimits`' fields by their JSON names.
    static let limitLabels: [(field: String, label: String)] = [
        ("number_per_15_minutes", "Requests for one number in 15 minutes"), ("number_per_hour", "Requests for one number in an hour"),
        ("number_per_day", "Requests for one number in a day"), ("client_numbers_per_hour", "Numbers one visitor may ask for in an hour"),
        ("client_numbers_per_day", "Numbers one visitor may ask for in a day"), ("site_per_minute", "Requests to the site in a minute"),
        ("site_per_day", "Requests to the site in a day"),
    ]
    /// The top-ups offered, in minutes.
    static let topUps = [100, 300, 1000]

    func sitePage(_ site: Site, _ session: OwnerSessions.Session, notice: String?) async throws -> Response {
        let callbacks = try await database.query("""
            SELECT c.id::text AS id, to_char(c.created_at AT TIME ZONE $2, 'YYYY-MM-DD HH24:MI') AS created, c.status,
                   coalesce(replace(c.reason, '_', ' '), '') AS reason, coalesce(c.phone_tail, '') AS tail,
                   (SELECT count(*)::int FROM attempts a WHERE a.callback_id = c.id) AS attempts,
                   EXISTS (SELECT 1 FROM recordings r WHERE r.callback_id = c.id AND r.deleted_at IS NULL) AS recorded
            FROM callbacks c WHERE c.site_id = $1::uuid ORDER BY c.created_at DESC LIMIT 20
            """, [site.id, site.timeZone.identifier]).map { row -> [String: Any] in
            var value: [String: Any] = [
                "created": try row.decode("created", as: String.self), "status": try row.decode("status", as: String.self),

                "tail": try row.decode("tail", as: String.self), "attempts": try row.decode("attempts", as: Int.self)]
            let reason = try row.decode("reason", as: String.self)
            if !reason.isEmpty { value["reason"] = reason }
            if try row.decode("recorded", as: Bool.self) { value["recording"] = recordingLink(try row.decode("id")) }
            return value
        }
        let ledger = BalanceLedger(database: database)
        let entries = try await ledger.entries(siteID: site.id).suffix(20).reversed().map { entry -> [String: Any] in
            ["at": String(entry.createdAt.prefix(16)), "kind": entry.kind.rawValue.replacingOccurrences(of: "_", with: " "),
             "minutes": entry.minutes > 0 ? "+\(entry.minutes)" : String(entry.minutes)]
        }
        let hours = (1...7).map { day -> [String: Any] in
            let span = site.hours.days[day]
            return ["day": day, "name": Self.weekdays[day - 1], "open": span != nil,
                    "from": Self.clock(span?.open ?? 540), "to": Self.clock(span?.close ?? 1080)]
        }
        let events = NotificationSettings.events.map { event -> [String: Any] in
            ["name": event.name, "label": Self.eventLabels[event.name] ?? event.name, "sms": site.notifications.sms(event.name),
             "byEmail": event.byEmail, "email": site.notifications.email(event.name)]
        }
        let current = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(site.limits)) as? [String: Int] ?? [:]
        let limits = Self.limitLabels.map { ["field": $0.field, "label": $0.label, "value": current[$0.field] ?? 0] as [String: Any] }
        var values: [String: Any] = [
            "id": site.id, "name": site.name, "balance": site.balanceMinutes, "language": site.language, "timezone": site.timeZone.identifier,
            "callbacks": callbacks, "hasCallbacks": !callbacks.isEmpty, "ledger": Array(entries),
            "color": site.widget.color, "right": site.widget.position == .right, "left": site.widget.position == .left,
            "preview": try Self.previewConfig(site), "hours": hours,
            "zones": TimeZone.knownTimeZoneIdentifiers.sorted().map { ["zone": $0, "selected": $0 == site.timeZone.identifier] as [String: Any] },
            "managers": site.managers.joined(separator: "\n"), "limits": limits, "events": events,
            "thresholds": site.lowBalanceThresholds.map(String.init).joined(separator: ", "),
            "daily": site.notifications.dailyReport, "weekly": site.notifications.weeklyReport,
            "referralMinutes": ledger.referralMinutes, "payments": payments != nil, "topUps": Self.topUps.map { ["minutes": $0] },
        ]
        values["button_text"] = site.widget.buttonText
        values["open_after_s"] = site.widget.openAfterSeconds
        values["owner_phone"] = site.ownerPhone
        values["email"] = site.email
        return render("site", title: site.name, csrf: session.csrf, values: values, notice: notice)
    }

    /// What the widget's live preview starts from: the settings `/v1/widget/config` serves.
    static func previewConfig(_ site: Site) throws -> String {
        String(decoding: try JSONEncoder().encode(WidgetConfig(site, version: "")), as: UTF8.self)
    }

    static func clock(_ minutes: Int) -> String {
        String(format: "%02d:%02d", minutes / 60 % 24, minutes % 60)
    }
}
