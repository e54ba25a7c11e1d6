import CryptoPrimitives
import Foundation
import HTTPClient
import PostgresClient
import RedisClient

/// The process configuration, read from `REDIAL_*` environment variables (docs/contract.md) and
/// validated as a whole: every bad variable is reported at once, each with what was expected.
public struct RedialSettings: Sendable {
    /// Defaults point at what `make services` and `redial sandbox` start locally.
    public enum Defaults {
        public static let redisURL = "redis://127.0.0.1:16379/0"
        public static let databaseURL = "postgres://redial@127.0.0.1:15432/redial"
        public static let httpHost = "127.0.0.1"
        public static let httpPort = 8080
        public static let sandboxPort = 8090
        public static let watchdogPort = 9102
        public static let smtpURL = "smtp://127.0.0.1:2525"
        public static let s3URL = "http://127.0.0.1:9000"
        public static let s3Bucket = "redial-recordings"
        public static let trustedProxies = "127.0.0.1,::1"
        public static let timeScale = 1.0
        /// International premium and satellite ranges that toll fraud favours: global networks
        /// (+881 satellite, +882/+883 international networks), Inmarsat (+870), international
        /// premium rate (+979), North American premium (+1900, +1976).
        public static let deniedPrefixes = "+870,+881,+882,+883,+979,+1900,+1976"
        /// Only for the local sandbox; production sets its provider's secret.
        public static let telephonySecret = "sandbox-webhook-secret"
        /// The sandbox carrier's test line (`SandboxWire.testNumber`).
        public static let telephonyTestNumber = "+15005550000"
    }

    /// `production` refuses unsafe set-ups (e.g. Redis without AOF) that `development` warns about.
    public enum Mode: String, Sendable {
        case development, production
    }

    public var mode: Mode
    public var redis: RedisURL
    public var database: PostgresURL
    public var httpHost: String
    public var httpPort: Int
    public var telephonyURL: String
    /// Which adapter speaks to the carrier and the SMS gateway (`REDIAL_PROVIDER`): `sandbox`
    /// (the protocol of `redial sandbox`) is the one this build carries.
    public var provider: Provider

    public enum Provider: String, Sendable, CaseIterable {
        case sandbox
    }
    public var smsURL: String
    public var sandboxPort: Int
    /// The address `redial sandbox` listens on (`REDIAL_SANDBOX_HOST`; the chaos suite's full
    /// profile puts it on a private veth address that a network-namespaced worker can reach).
    public var sandboxHost: String
    public var smtpURL: String
    public var s3URL: String
    public var s3Bucket: String
    public var s3Key: String?
    public var s3Secret: String?
    public var trustedProxies: [NetworkRange]
    /// Multiplies every retry, backoff, schedule and lease delay; tests use e.g. 0.01.
    public var timeScale: Double
    /// Shared secret of the telephony provider's signed webhooks.
    public var telephonySecret: String
    /// The secret before the last rotation (`REDIAL_TELEPHONY_SECRET_PREVIOUS`): webhooks signed
    /// with it are still accepted while the provider moves to the new one; nil when none.
    public var previousTelephonySecret: String?
    /// Base URL at which the provider reaches this API (`…/v1/telephony/events`).
    public var publicURL: String
    /// Sender of notification emails (`REDIAL_MAIL_FROM`).
    public var mailFrom: String
    /// E.164 prefixes never called back (`REDIAL_DENIED_PREFIXES`).
    public var deniedPrefixes: [String]
    /// Emails allowed per recipient per window (`REDIAL_EMAIL_PER_RECIPIENT`, e.g. `20/1h`).
    public var emailPerRecipient: Rate
    /// Object-storage region for SigV4 (`REDIAL_S3_REGION`).
    public var s3Region: String
    /// Recordings above this size are uploaded in parts of this size (`REDIAL_S3_PART_BYTES`, ≥ 5 MiB as S3 requires).
    public var s3PartBytes: Int
    /// A recording larger than this is refused while downloading (`REDIAL_RECORDING_MAX_BYTES`).
    public var recordingMaxBytes: Int
    /// `REDIAL_METRICS_PORT`: serve `/metrics` and `/readyz`'s details there (loopback) instead
    /// of on the public API port. Unset: everything on the API port.
    public var metricsPort: Int?
    /// SIP trunks the watchdog probes with OPTIONS (`REDIAL_SIP_TRUNKS`); none by default.
    public var sipTrunks: [SIPTrunk]
    /// Who is paged by SMS (`REDIAL_ONCALL_PHONE`), and who next when a page is not
    /// acknowledged within `oncallEscalateAfter` (`REDIAL_ONCALL_PHONE_SECONDARY`,
    /// `REDIAL_ONCALL_ESCALATE_MINUTES`, default 15, × the time scale).
    public var oncallPhone: String?
    /// How many live workers the cluster should have (`REDIAL_EXPECTED_WORKERS`, default 1):
    /// fewer for a minute raises WorkersMissing.
    public var expectedWorkers: Int
    /// The carrier's test line the watchdog's synthetic call rings (`REDIAL_TELEPHONY_TEST_NUMBER`;
    /// in development the sandbox's, in production none unless set): nil, no synthetic call.
    public var telephonyTestNumber: String?
    /// The release channel this process belongs to (`REDIAL_CHANNEL`: production or beta): a
    /// worker serves its channel's queues, and the dial flow asks the carrier to send its
    /// webhooks back to the same channel.
    public var channel: String
    /// The share of production sites' new callbacks that go to beta (`REDIAL_BETA_SHARE`, 0-1,
    /// default 0); a site marked beta sends all of its own.
    public var betaShare: Double
    /// Replicas every enqueue must reach before it counts (`REDIAL_REDIS_WAIT`, 0-5, default 0:
    /// the master's acknowledgement), and how long to wait for them
    /// (`REDIAL_REDIS_WAIT_TIMEOUT_MS`, default 1000).
    public var redisWait: (replicas: Int, timeout: Duration)
    public var oncallPhoneSecondary: String?
    public var oncallEscalateAfter: Duration
    /// Alertmanager, for `redial alerts` (`REDIAL_ALERTMANAGER_PORT` on loopback, 9093, or
    /// `REDIAL_ALERTMANAGER_URL`).
    public var alertmanagerURL: String
    /// Prometheus, for the console's probe history (`REDIAL_PROMETHEUS_PORT` on loopback, 9090, or
    /// `REDIAL_PROMETHEUS_URL`).
    public var prometheusURL: String
    /// Where `redial watchdog` serves its `/metrics` (`REDIAL_WATCHDOG_PORT`, loopback, 9102).
    public var watchdogPort: Int
    /// The only hosts call recordings are downloaded from (`REDIAL_RECORDING_HOSTS`, comma-separated;
    /// default the host of `REDIAL_TELEPHONY_URL`).
    public var recordingHosts: [String]
    /// A JSON file of extra periodic schedules, merged with `Jobs/schedules.json` (`REDIAL_SCHEDULES`).
    public var schedulesFile: String?
    /// How long an originate may take before its answer counts as unclear
    /// (`REDIAL_TELEPHONY_TIMEOUT_MS`, default 15000). Unclear answers are retried under the same
    /// key, never re-dialed, so a short timeout costs look-ups, not rings.
    public var telephonyTimeout: Duration
    /// The operations console's credential (`REDIAL_ADMIN_TOKEN`, at least 16 characters): nil,
    /// the console at `/admin` is off.
    public var adminToken: String?
    /// How personal data is kept at rest: the ring that seals numbers, names and addresses
    /// (`REDIAL_DATA_KEYS`, `id:base64(32 bytes)[,…]`, the first seals) and the key of the keyed
    /// hashes that stand in for a number where it must be found (`REDIAL_LOOKUP_KEY`, at least 32
    /// bytes; never rotated, since every stored lookup would change). Both have development
    /// defaults that production refuses.
    public var dataProtection: DataProtection
    /// `REDIAL_UNSAFE_DIAL_WITHOUT_LEDGER=1`: the chaos suite's deliberately broken build.
    public var unsafeDialWithoutLedger: Bool
    /// `REDIAL_UNSAFE_FAIL_DIALS=0.2`: the release gate's deliberately bad beta build fails that
    /// share of its `callback.dial` runs (retried like any failure). Refused in production.
    public var unsafeDialFailureShare: Double

    /// Variables that may hold a secret, so each may instead name a file holding it
    /// (`REDIAL_TELEPHONY_SECRET_FILE=/run/secrets/telephony`): the secret then never sits in the
    /// environment a process listing (`/proc/PID/environ`, `ps e`) shows.
    public static let secretVariables = [
        "REDIAL_TELEPHONY_SECRET", "REDIAL_TELEPHONY_SECRET_PREVIOUS", "REDIAL_ADMIN_TOKEN", "REDIAL_LOOKUP_KEY", "REDIAL_DATA_KEYS", "REDIAL_S3_KEY", "REDIAL_S3_SECRET",
        "REDIAL_REDIS_URL", "REDIAL_DATABASE_URL", "REDIAL_SMTP_URL",
    ]

    /// `environment` with each `<NAME>_FILE` of a secret variable read into `<NAME>` (the file's
    /// text without its final newline); a file that cannot be read or is empty, both forms at
    /// once, or `_FILE` on a variable that holds no secret is a problem.
    static func readingSecretFiles(_ environment: [String: String], problems: inout [String]) -> [String: String] {
        var resolved = environment
        for (name, path) in environment where name.hasPrefix("REDIAL_") && name.hasSuffix("_FILE") && !path.isEmpty {
            let variable = String(name.dropLast("_FILE".count))
            guard secretVariables.contains(variable) else {
                problems.append("\(name): only a secret can come from a file (\(secretVariables.joined(separator: ", ")))")
                continue
            }
            guard (environment[variable] ?? "").isEmpty else {
                problems.append("\(name): \(variable) is set too; give the secret one way")
                continue
            }
            guard let data = FileManager.default.contents(atPath: path), var text = String(data: data, encoding: .utf8) else {
                problems.append("\(name): cannot read '\(path)'")
                continue
            }
            while text.last?.isNewline == true { text.removeLast() }  // "\r\n" is one Character
            guard !text.isEmpty else {
                problems.append("\(name): '\(path)' is empty")
                continue
            }
            resolved[variable] = text
        }
        return resolved
    }

    public init(environment given: [String: String]) throws(SettingsError) {
        var problems: [String] = []
        let environment = Self.readingSecretFiles(given, problems: &problems)
        func value(_ name: String, _ fallback: String) -> String {
            let text = environment[name] ?? ""
            return text.isEmpty ? fallback : text
        }
        func check<T>(_ name: String, _ fallback: String, _ parse: (String) throws -> T) -> T? {
            do {
                return try parse(value(name, fallback))
            } catch let error as RedisError {
                problems.append("\(name): \(error.message)")
            } catch let error as PostgresError {
                problems.append("\(name): \(error.message)")
            } catch let error as SettingsError {
                problems += error.problems.map { "\(name): \($0)" }
            } catch {
                problems.append("\(name): \(error)")
            }
            return nil
        }
        let mode = check("REDIAL_ENV", "development") { text throws(SettingsError) in
            guard let mode = Mode(rawValue: text) else { throw SettingsError("expected development or production, got '\(text)'") }
            return mode
        }
        let redis = check("REDIAL_REDIS_URL", Defaults.redisURL) { try RedisURL(parsing: $0) }
        let database = check("REDIAL_DATABASE_URL", Defaults.databaseURL) { try PostgresURL(parsing: $0) }
        let httpPort = check("REDIAL_HTTP_PORT", String(Defaults.httpPort), Self.port)
        let sandboxPort = check("REDIAL_SANDBOX_PORT", String(Defaults.sandboxPort), Self.port)
        let sandbox = "http://127.0.0.1:\(sandboxPort ?? Defaults.sandboxPort)"
        let telephony = check("REDIAL_TELEPHONY_URL", sandbox) { try Self.url($0, schemes: ["http", "https"]) }
        let sms = check("REDIAL_SMS_URL", sandbox) { try Self.url($0, schemes: ["http", "https"]) }
        let smtp = check("REDIAL_SMTP_URL", Defaults.smtpURL) { try Self.url($0, schemes: ["smtp", "smtps"]) }
        let s3 = check("REDIAL_S3_URL", Defaults.s3URL) { try Self.url($0, schemes: ["http", "https"]) }
        let bucket = check("REDIAL_S3_BUCKET", Defaults.s3Bucket, Self.bucket)
        let proxies = check("REDIAL_TRUSTED_PROXIES", Defaults.trustedProxies) { text throws(SettingsError) in
            try text.split(separator: ",").map { item throws(SettingsError) in
                let trimmed = item.trimmingSpaces
                guard let range = NetworkRange(parsing: trimmed) else {
                    throw SettingsError("expected comma-separated IP addresses or CIDRs, got '\(trimmed)'")
                }
                return range
            }
        }
        let publicURL = check("REDIAL_PUBLIC_URL", "http://127.0.0.1:\(httpPort ?? Defaults.httpPort)") {
            try Self.url($0, schemes: ["http", "https"])
        }
        let secret = check("REDIAL_TELEPHONY_SECRET", Defaults.telephonySecret) { text throws(SettingsError) in
            guard text.utf8.count >= 16 else { throw SettingsError("expected at least 16 characters") }
            return text
        }
        let previousSecret = check("REDIAL_TELEPHONY_SECRET_PREVIOUS", "") { text throws(SettingsError) -> String? in
            guard !text.isEmpty else { return nil }
            guard text.utf8.count >= 16 else { throw SettingsError("expected at least 16 characters") }
            guard text != environment["REDIAL_TELEPHONY_SECRET"] else { throw SettingsError("the same as REDIAL_TELEPHONY_SECRET") }
            return text
        }
        let timeScale = check("REDIAL_TIME_SCALE", String(Defaults.timeScale)) { text throws(SettingsError) in
            guard let scale = Double(text), scale.isFinite, scale > 0, scale <= 1000 else {
                throw SettingsError("expected a number > 0 and ≤ 1000, got '\(text)'")
            }
            return scale
        }
        let denied = check("REDIAL_DENIED_PREFIXES", Defaults.deniedPrefixes) { text throws(SettingsError) in
            try text.split(separator: ",").map { item throws(SettingsError) in
                let prefix = item.trimmingSpaces
                guard prefix.hasPrefix("+"), (2...16).contains(prefix.count), prefix.dropFirst().allSatisfy(\.isNumber) else {
                    throw SettingsError("expected comma-separated E.164 prefixes such as +882, got '\(prefix)'")
                }
                return prefix
            }
        }
        let perRecipient = check("REDIAL_EMAIL_PER_RECIPIENT", "20/1h", Self.rate)
        let metricsPort: Int?? = environment["REDIAL_METRICS_PORT"].flatMap { $0.isEmpty ? nil : $0 }
            .map { text in check("REDIAL_METRICS_PORT", text, Self.port) }
        let partBytes = check("REDIAL_S3_PART_BYTES", String(8 << 20)) { text throws(SettingsError) in
            guard let bytes = Int(text), bytes >= 5 << 20, bytes <= 5 << 30 else {
                throw SettingsError("expected bytes between 5 MiB (5242880, S3's minimum part) and 5 GiB, got '\(text)'")
            }
            return bytes
        }
        let maxRecording = check("REDIAL_RECORDING_MAX_BYTES", String(512 << 20)) { text throws(SettingsError) in
            guard let bytes = Int(text), bytes > 0 else { throw SettingsError("expected a positive number of bytes, got '\(text)'") }
            return bytes
        }
        let telephonyTimeout = check("REDIAL_TELEPHONY_TIMEOUT_MS", "15000") { text throws(SettingsError) in
            guard let ms = Int(text), (100...120_000).contains(ms) else {
                throw SettingsError("expected milliseconds between 100 and 120000, got '\(text)'")
            }
            return Duration.milliseconds(ms)
        }
        let provider = check("REDIAL_PROVIDER", Provider.sandbox.rawValue) { text throws(SettingsError) in
            guard let known = Provider(rawValue: text) else {
                throw SettingsError("expected one of \(Provider.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
            }
            return known
        }
        let sipTrunks = check("REDIAL_SIP_TRUNKS", "") { text throws(SettingsError) in try SIPTrunk.parseList(text) }
        let watchdogPort = check("REDIAL_WATCHDOG_PORT", String(Defaults.watchdogPort), Self.port)
        func phone(_ text: String) throws(SettingsError) -> String? {
            if text.isEmpty { return nil }
            let digits = text.filter { !" -()".contains($0) }
            guard digits.hasPrefix("+"), (8...16).contains(digits.count), digits.dropFirst().allSatisfy(\.isNumber) else {
                throw SettingsError("expected a phone number in E.164 (+ and 7-15 digits), got '\(text)'")
            }
            return digits
        }
        let expectedWorkers = check("REDIAL_EXPECTED_WORKERS", "1") { text throws(SettingsError) in
            guard let count = Int(text), (0...10_000).contains(count) else { throw SettingsError("expected 0-10000 workers, got '\(text)'") }
            return count
        }
        let oncallPhone = check("REDIAL_ONCALL_PHONE", "") { text throws(SettingsError) in try phone(text) }
        let channel = check("REDIAL_CHANNEL", "production") { text throws(SettingsError) in
            guard ["production", "beta"].contains(text) else { throw SettingsError("expected production or beta, got '\(text)'") }
            return text
        }
        let betaShare = check("REDIAL_BETA_SHARE", "0") { text throws(SettingsError) in
            guard let share = Double(text), (0...1).contains(share) else { throw SettingsError("expected a share between 0 and 1, got '\(text)'") }
            return share
        }
        let waitReplicas = check("REDIAL_REDIS_WAIT", "0") { text throws(SettingsError) in
            guard let replicas = Int(text), (0...5).contains(replicas) else {
                throw SettingsError("expected the replicas an enqueue must reach, 0-5, got '\(text)'")
            }
            return replicas
        }
        let waitTimeout = check("REDIAL_REDIS_WAIT_TIMEOUT_MS", "1000") { text throws(SettingsError) in
            guard let ms = Int(text), (10...60_000).contains(ms) else { throw SettingsError("expected 10-60000 ms, got '\(text)'") }
            return ms
        }
        let testNumber = check("REDIAL_TELEPHONY_TEST_NUMBER", mode == .production ? "" : Defaults.telephonyTestNumber) {
            text throws(SettingsError) in try phone(text)
        }
        let oncallSecondary = check("REDIAL_ONCALL_PHONE_SECONDARY", "") { text throws(SettingsError) in try phone(text) }
        let adminToken = check("REDIAL_ADMIN_TOKEN", "") { text throws(SettingsError) -> String? in
            guard !text.isEmpty else { return nil }
            guard text.count >= 16, text.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
                throw SettingsError("expected at least 16 printable characters (the console's only credential)")
            }
            return text
        }
        let lookupKey = check("REDIAL_LOOKUP_KEY", DataProtection.developmentLookupKey) { text throws(SettingsError) in
            guard text.utf8.count >= 32 else { throw SettingsError("expected at least 32 bytes") }
            return Array(text.utf8)
        }
        let dataProtection = check("REDIAL_DATA_KEYS", DataProtection.developmentRing) { text throws(SettingsError) in
            do throws(CryptoError) {
                return try DataProtection(ring: text, lookupKey: lookupKey ?? Array(DataProtection.developmentLookupKey.utf8))
            } catch {
                throw SettingsError(error.message)
            }
        }
        let escalate = check("REDIAL_ONCALL_ESCALATE_MINUTES", "15") { text throws(SettingsError) in
            guard let minutes = Double(text), minutes > 0, minutes <= 1440 else {
                throw SettingsError("expected minutes > 0 and ≤ 1440, got '\(text)'")
            }
            return Duration.milliseconds(Int64(minutes * 60_000))
        }
        let alertmanagerPort = check("REDIAL_ALERTMANAGER_PORT", "9093", Self.port)
        let alertmanager = check("REDIAL_ALERTMANAGER_URL", "http://127.0.0.1:\(alertmanagerPort ?? 9093)") {
            try Self.url($0, schemes: ["http", "https"])
        }
        let prometheusPort = check("REDIAL_PROMETHEUS_PORT", "9090", Self.port)
        let prometheus = check("REDIAL_PROMETHEUS_URL", "http://127.0.0.1:\(prometheusPort ?? 9090)") {
            try Self.url($0, schemes: ["http", "https"])
        }
        let telephonyHost = telephony.flatMap(URLParts.init)?.host ?? "127.0.0.1"
        let recordingHosts = value("REDIAL_RECORDING_HOSTS", telephonyHost).split(separator: ",").map { $0.trimmingSpaces.lowercased() }
            .map { $0.hasPrefix("[") && $0.hasSuffix("]") ? String($0.dropFirst().dropLast()) : $0 }.filter { !$0.isEmpty }
        let unsafe = environment["REDIAL_UNSAFE_DIAL_WITHOUT_LEDGER"] == "1"
        let failDials = check("REDIAL_UNSAFE_FAIL_DIALS", "0") { text throws(SettingsError) in
            guard let share = Double(text), (0...1).contains(share) else { throw SettingsError("expected a share between 0 and 1, got '\(text)'") }
            return share
        }
        if mode == .production {
            problems += Self.productionProblems(environment: environment, secrets: [("REDIAL_TELEPHONY_SECRET", secret),
                                                                                    ("REDIAL_TELEPHONY_SECRET_PREVIOUS", previousSecret ?? nil)],
                                                dataProtection: dataProtection, telephony: telephony, sms: sms,
                                                sandboxPort: sandboxPort ?? Defaults.sandboxPort, unsafe: unsafe || (failDials ?? 0) > 0)
        }
        guard problems.isEmpty, let mode, let redis, let database, let httpPort, let sandboxPort, let telephony,
              let sms, let smtp, let s3, let bucket, let proxies, let timeScale, let publicURL, let secret, let denied,
              let perRecipient, let partBytes, let maxRecording, let telephonyTimeout, let provider, let sipTrunks,
              let watchdogPort, let alertmanager, let prometheus, let oncallPhone, let oncallSecondary, let escalate,
              let expectedWorkers, let testNumber, let channel, let betaShare, let failDials, let previousSecret, let dataProtection,
              let waitReplicas, let waitTimeout else {
            throw SettingsError(problems: problems)
        }
        self.mode = mode
        self.redis = redis
        self.database = database
        self.httpHost = value("REDIAL_HTTP_HOST", Defaults.httpHost)
        self.httpPort = httpPort
        self.sandboxPort = sandboxPort
        self.sandboxHost = value("REDIAL_SANDBOX_HOST", "127.0.0.1")
        self.telephonyURL = telephony
        self.provider = provider
        self.sipTrunks = sipTrunks
        self.watchdogPort = watchdogPort
        self.alertmanagerURL = alertmanager
        self.prometheusURL = prometheus
        self.oncallPhone = oncallPhone
        self.expectedWorkers = expectedWorkers
        self.telephonyTestNumber = testNumber
        self.channel = channel
        self.betaShare = betaShare
        self.redisWait = (waitReplicas, .milliseconds(waitTimeout))
        self.oncallPhoneSecondary = oncallSecondary
        self.adminToken = adminToken ?? nil
        self.dataProtection = dataProtection
        self.oncallEscalateAfter = escalate
        self.smsURL = sms
        self.smtpURL = smtp
        self.s3URL = s3
        self.s3Bucket = bucket
        self.s3Key = environment["REDIAL_S3_KEY"]
        self.s3Secret = environment["REDIAL_S3_SECRET"]
        self.trustedProxies = proxies
        self.timeScale = timeScale
        self.publicURL = publicURL
        self.telephonySecret = secret
        self.previousTelephonySecret = previousSecret
        self.unsafeDialWithoutLedger = unsafe
        self.unsafeDialFailureShare = failDials
        self.telephonyTimeout = telephonyTimeout
        self.deniedPrefixes = denied
        self.mailFrom = value("REDIAL_MAIL_FROM", "redial@localhost")
        self.emailPerRecipient = perRecipient
        self.s3Region = value("REDIAL_S3_REGION", "us-east-1")
        self.s3PartBytes = partBytes
        self.recordingMaxBytes = maxRecording
        self.schedulesFile = environment["REDIAL_SCHEDULES"].flatMap { $0.isEmpty ? nil : $0 }
        self.recordingHosts = recordingHosts
        self.metricsPort = metricsPort ?? nil
    }

    /// The shortest webhook secret production accepts: 256 bits, HMAC-SHA256's own strength.
    public static let minimumProductionSecretBytes = 32

    /// What development tolerates and production refuses, one line per variable: the sandbox's
    /// public webhook secret or any short one, current or previous (a forger could sign "answered"
    /// events and spend balances), the development lookup key, the sandbox as a provider (no call
    /// would reach a phone), placeholder or missing object-storage credentials, and the chaos
    /// suite's broken-build switch.
    static func productionProblems(environment: [String: String], secrets: [(name: String, value: String?)], dataProtection: DataProtection?,
                                   telephony: String?, sms: String?, sandboxPort: Int, unsafe: Bool) -> [String] {
        var problems: [String] = []
        for (name, secret) in secrets {
            guard let secret else { continue }
            if secret == Defaults.telephonySecret {
                problems.append("\(name): the sandbox's public secret; set the provider's own (refused in production)")
            } else if secret.utf8.count < minimumProductionSecretBytes {
                problems.append("\(name): expected at least \(minimumProductionSecretBytes) bytes in production, got \(secret.utf8.count)")
            }
        }
        if let dataProtection {
            if dataProtection.holdsDevelopmentLookupKey {
                problems.append("REDIAL_LOOKUP_KEY: the development key; set a secret of your own (refused in production)")
            }
            if dataProtection.holdsDevelopmentKey {
                problems.append("REDIAL_DATA_KEYS: \((environment["REDIAL_DATA_KEYS"] ?? "").isEmpty ? "not set" : "holds the development key"); "
                                + "production seals personal data under keys of its own (id:base64 of 32 random bytes)")
            }
        }
        func isSandbox(_ url: String?) -> Bool {
            guard let url else { return false }
            return ["127.0.0.1", "localhost", "[::1]"].contains { url.hasPrefix("http://\($0):\(sandboxPort)") }
        }
        if isSandbox(telephony) { problems.append("REDIAL_TELEPHONY_URL: points at the local sandbox, which rings no phone (refused in production)") }
        if isSandbox(sms) { problems.append("REDIAL_SMS_URL: points at the local sandbox, which sends no SMS (refused in production)") }
        for name in ["REDIAL_S3_KEY", "REDIAL_S3_SECRET"] {
            let value = environment[name] ?? ""
            if value.isEmpty || value.hasPrefix("redial-local") {
                problems.append("\(name): missing or a placeholder; production stores recordings only with real credentials")
            }
        }
        if unsafe {
            problems.append("REDIAL_UNSAFE_DIAL_WITHOUT_LEDGER, REDIAL_UNSAFE_FAIL_DIALS: test-only switches that break dialing; refused in production")
        }
        return problems
    }

    /// `N/<duration>` with the duration in s, m or h: `20/1h`, `2/30s`.
    static func rate(_ text: String) throws(SettingsError) -> Rate {
        let parts = text.split(separator: "/")
        let units = ["s": 1, "m": 60, "h": 3600]
        guard parts.count == 2, let limit = Int(parts[0]), limit > 0, let unit = parts[1].last.flatMap({ units[String($0)] }),
              let amount = Int(parts[1].dropLast()), amount > 0, amount * unit <= 86_400 * 7 else {
            throw SettingsError("expected N/<duration> such as 20/1h or 2/30s (window up to 7 days), got '\(text)'")
        }
        return Rate(limit: limit, windowSeconds: amount * unit)
    }

    /// A count per time window.
    public struct Rate: Sendable, Equatable {
        public let limit: Int
        public let windowSeconds: Int

        public init(limit: Int, windowSeconds: Int) {
            self.limit = limit
            self.windowSeconds = windowSeconds
        }
    }

    static func port(_ text: String) throws(SettingsError) -> Int {
        guard let port = Int(text), (1...65535).contains(port) else {
            throw SettingsError("expected a port number 1-65535, got '\(text)'")
        }
        return port
    }

    static func url(_ text: String, schemes: [String]) throws(SettingsError) -> String {
        let expected = "expected \(schemes.map { "\($0)://host[:port]" }.joined(separator: " or "))"
        guard let separator = text.firstRange(of: "://"), schemes.contains(String(text[..<separator.lowerBound])) else {
            throw SettingsError("\(expected), got '\(text)'")
        }
        let authority = text[separator.upperBound...].prefix { $0 != "/" && $0 != "?" }
        let host = authority.split(separator: "@").last.map { $0.split(separator: ":").first ?? "" } ?? ""
        guard !host.isEmpty, !text.contains(" ") else { throw SettingsError("\(expected), got '\(text)': host is missing") }
        if text.hasSuffix("/") { return String(text.dropLast()) }
        return text
    }

    static func bucket(_ text: String) throws(SettingsError) -> String {
        let allowed = text.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" || $0 == "." }
        guard (3...63).contains(text.count), allowed else {
            throw SettingsError("expected an S3 bucket name (3-63 of a-z 0-9 . -), got '\(text)'")
        }
        return text
    }
}

extension Substring {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
