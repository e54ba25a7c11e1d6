import CryptoPrimitives
import Foundation
import PostgresClient

/// Sites in PostgreSQL. A site key is shown once, at creation; only its SHA-256 is stored. The
/// managers' and owner's numbers are sealed (`SealedColumn`).
public struct SiteStore: Sendable {
    public let database: PostgresPool
    public let protection: DataProtection

    public init(database: PostgresPool, protection: DataProtection) {
        self.database = database
        self.protection = protection
    }

    public struct NewSite: Sendable {
        public var name: String
        public var managers: [String]
        public var timeZone = "UTC"
        public var hours = WorkingHours.always
        public var balanceMinutes = 0
        public var email: String?
        public var language = "en"
        public var defaultCountryCode: String?
        /// Calling codes the site serves. nil: only its default country when it has one (a new
        /// site does not call abroad unless told to), else every country not denied; []: every
        /// country not denied.
        public var servedCountryCodes: [String]?
        /// Origins (`https://shop.example`) the site's widget runs on; a request from any other
        /// origin, or with none, is refused. Empty: any origin.
        public var allowedOrigins: [String] = []
        public var limits: [String: Int] = [:]
        /// Low-balance SMS go here; nil: to the first manager.
        public var ownerPhone: String?
        public var lowBalanceThresholds = [60, 10]
        public var recordingRetentionDays = 90
        /// Days its callbacks and all about them are kept (30-3650); then `data.retention` purges
        /// them, keeping daily counts.
        public var dataRetentionDays = 365
        /// Its callbacks go to the beta release channel (handled by beta workers only).
        public var beta = false
        /// The site that referred it: both are credited once its first top-up lands (`BalanceLedger`).
        public var referredBy: String?

        public init(name: String, managers: [String]) {
            self.name = name
            self.managers = managers
        }
    }

    /// Creates a site; returns it with its site key (the only time the key is seen).
    public func create(_ new: NewSite) async throws -> (site: Site, key: String) {
        let name = new.name.trimmingWhitespace
        guard (1...200).contains(name.count) else { throw DomainError(.invalid, "name: expected 1-200 characters", field: "name") }
        let managers = try Self.managers(new.managers, defaultCountryCode: new.defaultCountryCode)
        try Self.checkZone(new.timeZone)
        guard ["en", "ru"].contains(new.language) else {
            throw DomainError(.invalid, "language: expected ru or en, got '\(new.language)'", field: "language")
        }
        guard (0...10_000_000).contains(new.balanceMinutes) else {
            throw DomainError(.invalid, "balance-minutes: expected 0-10000000, got \(new.balanceMinutes)", field: "balance-minutes")
        }
        if let email = new.email, !Self.looksLikeEmail(email) {
            throw DomainError(.invalid, "email: expected an address like owner@example.com, got '\(email)'", field: "email")
        }
        let served = new.servedCountryCodes ?? new.defaultCountryCode.map { [$0] } ?? []
        for code in served + [new.defaultCountryCode].compactMap({ $0 }) {
            guard (1...3).contains(code.count), code.allSatisfy(\.isNumber), code.first != "0" else {
                throw DomainError(.invalid, "country code: expected 1-3 digits, got '\(code)'", field: "country")
            }
        }
        _ = try IntakeLimits(overrides: new.limits)
        let owner = try Self.ownerPhone(new.ownerPhone, defaultCountryCode: new.defaultCountryCode)
        try Self.checkThresholds(new.lowBalanceThresholds)
        guard (30...3650).contains(new.dataRetentionDays) else {
            throw DomainError(.invalid, "data-retention-days: expected 30-3650, got \(new.dataRetentionDays)", field: "data-retention-days")
        }
        guard (1...3650).contains(new.recordingRetentionDays) else {
            throw DomainError(.invalid, "recording-retention-days: expected 1-3650, got \(new.recordingRetentionDays)",
                              field: "recording-retention-days")
        }
        let origins = try new.allowedOrigins.map { text throws(DomainError) in
            guard let origin = Site.origin(text) else {
                throw DomainError(.invalid, "origin: expected scheme://host[:port] such as https://shop.example, got '\(text.prefix(100))'",
                                  field: "origin")
            }
            return origin
        }
        let key = try Self.newKey()
        if let referrer = new.referredBy {
            guard UUIDText.isValid(referrer), try await !database.query("SELECT 1 FROM sites WHERE id = $1::uuid", [referrer]).isEmpty else {
                throw DomainError(.invalid, "referred by: no site '\(referrer.prefix(40))'", field: "referred_by")
            }
        }
        // With its opening ledger entry (the balance it starts with), in one statement.
        let rows = try await database.query("""
            WITH site AS (
                INSERT INTO sites (name, key_hash, managers, timezone, hours, balance_minutes, email, language,
                                   default_country_code, served_country_codes, limits, owner_phone, low_balance_thresholds,
                                   recording_retention_days, allowed_origins, channel, data_retention_days, referred_by)
                VALUES ($1, $2, ARRAY(SELECT jsonb_array_elements_text($3::jsonb)), $4, $5::jsonb, $6, $7, $8, $9,
                        ARRAY(SELECT jsonb_array_elements_text($10::jsonb)), $11::jsonb, $12,
                        ARRAY(SELECT jsonb_array_elements_text($13::jsonb)::int), $14, ARRAY(SELECT jsonb_array_elements_text($15::jsonb)), $16, $17,
                        $18::uuid)
                RETURNING *),
            opening AS (INSERT INTO ledger (site_id, kind, minutes, entry_key) SELECT id, 'opening', balance_minutes, 'opening' FROM site)
            SELECT \(Self.columns) FROM site AS sites
            """, [name, Self.hash(key), try JSONText.encode(managers.map { try protection.seal($0, .siteManagers) }), new.timeZone, try JSONText.encode(new.hours),
                  new.balanceMinutes, new.email, new.language, new.defaultCountryCode,
                  try JSONText.encode(served), try JSONText.encode(new.limits), try owner.map { try protection.seal($0, .siteOwnerPhone) },
                  try JSONText.encode(new.lowBalanceThresholds), new.recordingRetentionDays, try JSONText.encode(origins),
                  new.beta ? "beta" : "production", new.dataRetentionDays, new.referredBy])
        return (try site(rows[0]), key)
    }

    /// Moves a site's new callbacks to the beta channel or back to production (those already
    /// accepted stay where they are); false when there is no such site.
    public func setChannel(id: String, beta: Bool) async throws -> Bool {
        guard UUIDText.isValid(id) else { return false }
        return try await !database.query("UPDATE sites SET channel = $2 WHERE id = $1::uuid RETURNING id",
                                          [id, beta ? "beta" : "production"]).isEmpty
    }

    /// The active site a key belongs to (its current key, or the one before it until that
    /// expires), or nil.
    public func find(key: String) async throws -> Site? {
        guard key.hasPrefix("sk_"), key.utf8.count < 100 else { return nil }
        return try await database.query(Self.findByKeySQL, [Self.hash(key)]).first.map(site)
    }

    /// On every request's path: $1 the key's hash.
    public static let findByKeySQL = """
        SELECT \(columns) FROM sites
        WHERE (key_hash = $1 OR (previous_key_hash = $1 AND previous_key_expires_at > now())) AND active
        """

    /// The longest an old key may stay valid after a rotation.
    public static let longestKeyGrace: Duration = .seconds(30 * 86_400)

    /// Gives a site a new key; the current one keeps working for `grace` (zero: it stops now),
    /// the time an owner needs to change the widget snippet, and a key before it stops now.
    /// Returns the new key (the only time it is seen) and when the old one stops; nil when there
    /// is no such site.
    public func rotateKey(id: String, grace: Duration) async throws -> (key: String, oldKeyExpires: String)? {
        guard grace >= .zero, grace <= Self.longestKeyGrace else {
            throw DomainError(.invalid, "grace: expected 0 to 30 days", field: "grace")
        }
        guard UUIDText.isValid(id) else { return nil }
        let key = try Self.newKey()
        let rows = try await database.query("""
            UPDATE sites SET previous_key_hash = key_hash, previous_key_expires_at = now() + make_interval(secs => $3),
                             key_hash = $2, key_rotated_at = now()
            WHERE id = $1::uuid RETURNING previous_key_expires_at::text AS expires
            """, [id, Self.hash(key), Double(grace.components.seconds)])
        return try rows.first.map { (key, try $0.decode("expires", as: String.self)) }
    }

    /// Stops a site's previous key (the one before its last rotation) now; false when there is
    /// no such site or it had none still valid.
    public func revokePreviousKey(id: String) async throws -> Bool {
        guard UUIDText.isValid(id) else { return false }
        return try await !database.query("""
            UPDATE sites SET previous_key_hash = NULL, previous_key_expires_at = NULL
            WHERE id = $1::uuid AND previous_key_hash IS NOT NULL AND previous_key_expires_at > now() RETURNING id
            """, [id]).isEmpty
    }

    /// Sets a site's widget settings (validated first); false when there is no such site.
    public func setWidget(id: String, _ settings: WidgetSettings) async throws -> Bool {
        try settings.validate()
        guard UUIDText.isValid(id) else { return false }
        return try await !database.query("UPDATE sites SET widget = $2::jsonb WHERE id = $1::uuid RETURNING id",
                                          [id, try JSONText.encode(settings)]).isEmpty
    }

    /// Sets who is rung, in order (1-10 numbers, read with the site's default country); false
    /// when there is no such site.
    public func setManagers(id: String, _ phones: [String]) async throws -> Bool {
        guard let site = try await find(id: id) else { return false }
        let managers = try Self.managers(phones, defaultCountryCode: site.defaultCountryCode)
        return try await update(id, "managers = ARRAY(SELECT jsonb_array_elements_text($2::jsonb))",
                                try JSONText.encode(managers.map { try protection.seal($0, .siteManagers) }))
    }

    /// Sets when the site takes calls and in which zone; false when there is no such site.
    public func setHours(id: String, timeZone: String, _ hours: WorkingHours) async throws -> Bool {
        try Self.checkZone(timeZone)
        guard !hours.days.isEmpty else {
            throw DomainError(.invalid, "hours: open on at least one day (a site that never opens would never be rung)", field: "hours")
        }
        return try await update(id, "timezone = $2, hours = $3::jsonb", timeZone, try JSONText.encode(hours))
    }

    /// Sets the site's intake limits: the fields given override the defaults (`IntakeLimits`).
    public func setLimits(id: String, _ overrides: [String: Int]) async throws -> Bool {
        _ = try IntakeLimits(overrides: overrides)
        return try await update(id, "limits = $2::jsonb", try JSONText.encode(overrides))
    }

    /// Sets who hears what: the owner's phone (nil: the first manager), the balance levels that
    /// warn, and which events and reports go by SMS and e-mail.
    public func setNotifications(id: String, ownerPhone: String?, lowBalanceThresholds: [Int], _ settings: NotificationSettings) async throws -> Bool {
        try settings.validate()
        try Self.checkThresholds(lowBalanceThresholds)
        guard let site = try await find(id: id) else { return false }
        let owner = try Self.ownerPhone(ownerPhone, defaultCountryCode: site.defaultCountryCode)
        return try await update(id, "owner_phone = $2, low_balance_thresholds = ARRAY(SELECT jsonb_array_elements_text($3::jsonb)::int), notifications = $4::jsonb",
                                try owner.map { try protection.seal($0, .siteOwnerPhone) }, try JSONText.encode(lowBalanceThresholds),
                                try JSONText.encode(settings))
    }

    private func update(_ id: String, _ assignments: String, _ values: (any PostgresEncodable)?...) async throws -> Bool {
        guard UUIDText.isValid(id) else { return false }
        return try await !database.query("UPDATE sites SET \(assignments) WHERE id = $1::uuid RETURNING id", [id] + values).isEmpty
    }

    static func managers(_ phones: [String], defaultCountryCode: String?) throws(DomainError) -> [String] {
        guard !phones.isEmpty, phones.count <= 10 else {
            throw DomainError(.invalid, "manager: expected 1-10 manager phones", field: "manager")
        }
        return try phones.map { text throws(DomainError) in
            do {
                return try PhoneNumber(parsing: text, defaultCountryCode: defaultCountryCode).e164
            } catch {
                throw DomainError(.invalid, "manager '\(text.prefix(40))' \(error)", field: "manager")
            }
        }
    }

    static func ownerPhone(_ text: String?, defaultCountryCode: String?) throws(DomainError) -> String? {
        try text.map { text throws(DomainError) in
            do {
                return try PhoneNumber(parsing: text, defaultCountryCode: defaultCountryCode).e164
            } catch {
                throw DomainError(.invalid, "owner phone '\(text.prefix(40))' \(error)", field: "owner-phone")
            }
        }
    }

    static func checkZone(_ zone: String) throws(DomainError) {
        guard TimeZone(identifier: zone) != nil else {
            throw DomainError(.invalid, "timezone: expected an IANA zone such as Europe/Moscow, got '\(zone.prefix(60))'", field: "timezone")
        }
    }

    static func checkThresholds(_ levels: [Int]) throws(DomainError) {
        guard levels.count <= 10, levels.allSatisfy({ (0...10_000_000).contains($0) }) else {
            throw DomainError(.invalid, "low-balance: expected up to 10 levels of 0-10000000 minutes, got \(levels.prefix(12))",
                              field: "low-balance")
        }
    }

    static func newKey() throws -> String { "sk_" + (try SecureRandom.token(byteCount: 24)) }

    public func find(id: String) async throws -> Site? {
        guard UUIDText.isValid(id) else { return nil }
        return try await database.query("SELECT \(Self.columns) FROM sites WHERE id = $1::uuid", [id]).first.map(site)
    }

    public func list() async throws -> [Site] {
        try await database.query("SELECT \(Self.columns) FROM sites ORDER BY created_at").map(site)
    }

    static func hash(_ key: String) -> String { SHA256.hash(Array(key.utf8)).hexString }

    static func looksLikeEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !text.contains(where: \.isWhitespace)
            && text.utf8.count <= 254
    }

    static let columns = """
        id::text AS id, name, array_to_json(managers)::text AS managers, timezone, hours::text AS hours,
        balance_minutes, email, language, default_country_code,
        array_to_json(served_country_codes)::text AS served, limits::text AS limits, active, owner_phone,
        array_to_json(low_balance_thresholds)::text AS thresholds, recording_retention_days,
        array_to_json(allowed_origins)::text AS origins, widget::text AS widget, notifications::text AS notifications
        """

    func site(_ row: PostgresRow) throws -> Site {
        let zone = try row.decode("timezone", as: String.self)
        var site = Site(
            id: try row.decode("id"), name: try row.decode("name"),
            managers: try JSONText.decode([String].self, row.decode("managers")).map { try protection.open($0, .siteManagers) },
            timeZone: TimeZone(identifier: zone) ?? TimeZone(identifier: "UTC")!,
            hours: try JSONText.decode(WorkingHours.self, row.decode("hours")),
            balanceMinutes: try row.decode("balance_minutes"), email: try row.decodeIfPresent("email"),
            language: try row.decode("language"), defaultCountryCode: try row.decodeIfPresent("default_country_code"),
            servedCountryCodes: try JSONText.decode([String].self, row.decode("served")),
            limits: try IntakeLimits(overrides: JSONText.decode([String: Int].self, row.decode("limits"))),
            active: try row.decode("active"), ownerPhone: try row.decodeIfPresent("owner_phone", as: String.self).map { try protection.open($0, .siteOwnerPhone) },
            lowBalanceThresholds: try JSONText.decode([Int].self, row.decode("thresholds")),
            recordingRetentionDays: try row.decode("recording_retention_days"),
            allowedOrigins: try JSONText.decode([String].self, row.decode("origins")))
        site.widget = try JSONText.decode(WidgetSettings.self, row.decode("widget"))
        site.notifications = try JSONText.decode(NotificationSettings.self, row.decode("notifications"))
        return site
    }
}
