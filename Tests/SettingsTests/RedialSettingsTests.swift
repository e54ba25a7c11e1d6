import CryptoPrimitives
import Foundation
import PostgresClient
import RedisClient
import Settings
import Testing
import TestSupport

@Suite struct RedialSettingsTests {
    @Test func defaultsPointAtTheLocalServices() throws {
        let settings = try RedialSettings(environment: [:])
        #expect(settings.redis.port == 16379)
        #expect(settings.database.port == 15432)
        #expect(settings.httpPort == 8080)
        #expect(settings.telephonyURL == "http://127.0.0.1:8090")
        #expect(settings.timeScale == 1)
        #expect(settings.mode == .development)
        #expect(settings.trustedProxies.map(\.description) == ["127.0.0.1/32", "0:0:0:0:0:0:0:1/128"])
    }

    @Test func readsEveryVariable() throws {
        let settings = try RedialSettings(environment: [
            "REDIAL_REDIS_URL": "redis://:pw@10.0.0.5:6380/1",
            "REDIAL_DATABASE_URL": "postgres://u:p@db:5433/x",
            "REDIAL_HTTP_PORT": "9000", "REDIAL_HTTP_HOST": "0.0.0.0",
            "REDIAL_SANDBOX_PORT": "9100",
            "REDIAL_SMTP_URL": "smtp://mail:25",
            "REDIAL_S3_URL": "https://s3.example/", "REDIAL_S3_BUCKET": "recs", "REDIAL_S3_KEY": "k", "REDIAL_S3_SECRET": "s",
            "REDIAL_TRUSTED_PROXIES": "10.0.0.0/8, fd00::/8",
            "REDIAL_TIME_SCALE": "0.01", "REDIAL_ENV": "development",
        ])
        #expect(settings.redis.password == "pw")
        #expect(settings.database.database == "x")
        #expect(settings.httpHost == "0.0.0.0")
        #expect(settings.telephonyURL == "http://127.0.0.1:9100")  // follows the sandbox port
        #expect(settings.s3URL == "https://s3.example")
        #expect(settings.timeScale == 0.01)
        #expect(settings.mode == .development)
        #expect(settings.trustedProxies[0].contains("10.200.3.4"))
        #expect(!settings.trustedProxies[0].contains("11.0.0.1"))
        #expect(settings.trustedProxies[1].contains("fd12::1"))
        #expect(try RedialSettings(environment: ["REDIAL_DENIED_PREFIXES": "+882, +1900"]).deniedPrefixes == ["+882", "+1900"])
        #expect(throws: SettingsError.self) { try RedialSettings(environment: ["REDIAL_DENIED_PREFIXES": "882"]) }
    }

    @Test func productionRefusesTheSandboxAndPlaceholdersNamingEachVariable() throws {
        #expect(try RedialSettings(environment: TestServices.productionSettings).mode == .production)
        #expect {
            try RedialSettings(environment: ["REDIAL_ENV": "production"])
        } throws: { error in
            let problems = (error as? SettingsError)?.problems ?? []
            return problems.count == 7
                && problems.contains { $0.hasPrefix("REDIAL_TELEPHONY_SECRET: the sandbox's public secret") }
                && problems.contains("REDIAL_LOOKUP_KEY: the development key; set a secret of your own (refused in production)")
                && problems.contains { $0.hasPrefix("REDIAL_DATA_KEYS: not set; production seals personal data under keys of its own") }
                && problems.contains { $0.hasPrefix("REDIAL_TELEPHONY_URL: points at the local sandbox") }
                && problems.contains { $0.hasPrefix("REDIAL_SMS_URL: points at the local sandbox") }
                && problems.contains { $0.hasPrefix("REDIAL_S3_KEY: missing or a placeholder") }
                && problems.contains { $0.hasPrefix("REDIAL_S3_SECRET: missing or a placeholder") }
        }
        var short = TestServices.productionSettings
        short["REDIAL_TELEPHONY_SECRET"] = String(repeating: "k", count: 31)
        short["REDIAL_S3_KEY"] = "redial-local"
        short["REDIAL_TELEPHONY_URL"] = "http://localhost:8090"
        short["REDIAL_LOOKUP_KEY"] = String(repeating: "l", count: 31)
        short["REDIAL_DATA_KEYS"] = "k1:" + Data(repeating: 7, count: 16).base64EncodedString()
        #expect {
            try RedialSettings(environment: short)
        } throws: { error in
            let problems = (error as? SettingsError)?.problems ?? []
            return problems.count == 5
                && problems.contains("REDIAL_LOOKUP_KEY: expected at least 32 bytes")
                && problems.contains("REDIAL_DATA_KEYS: key 'k1': expected 32 bytes in base64 (openssl rand -base64 32)")
                && problems.contains("REDIAL_TELEPHONY_SECRET: expected at least 32 bytes in production, got 31")
                && problems.contains { $0.hasPrefix("REDIAL_S3_KEY: missing or a placeholder") }
                && problems.contains { $0.hasPrefix("REDIAL_TELEPHONY_URL: points at the local sandbox") }
        }
        var developmentKey = TestServices.productionSettings
        developmentKey["REDIAL_DATA_KEYS"] = "k2:" + Data(repeating: 9, count: 32).base64EncodedString() + "," + DataProtection.developmentRing
        #expect {
            try RedialSettings(environment: developmentKey)
        } throws: { error in
            (error as? SettingsError)?.problems == ["REDIAL_DATA_KEYS: holds the development key; production seals personal data under keys of its own (id:base64 of 32 random bytes)"]
        }
        // Development tolerates all of it.
        #expect(try RedialSettings(environment: [:]).mode == .development)
    }

    @Test func reportsEveryBadVariableAtOnceNamingIt() {
        #expect {
            try RedialSettings(environment: [
                "REDIAL_REDIS_URL": "localhost:6379",
                "REDIAL_HTTP_PORT": "eighty",
                "REDIAL_TIME_SCALE": "-1",
                "REDIAL_TRUSTED_PROXIES": "10.0.0.0/33",
                "REDIAL_SMTP_URL": "http://mail",
                "REDIAL_ENV": "prod",
            ])
        } throws: { error in
            guard let error = error as? SettingsError else { return false }
            let text = error.description
            return error.problems.count == 6
                && text.contains("REDIAL_REDIS_URL: expected redis://")
                && text.contains("REDIAL_HTTP_PORT: expected a port number 1-65535, got 'eighty'")
                && text.contains("REDIAL_TIME_SCALE: expected a number > 0")
                && text.contains("REDIAL_TRUSTED_PROXIES: expected comma-separated IP addresses or CIDRs, got '10.0.0.0/33'")
                && text.contains("REDIAL_SMTP_URL: expected smtp://")
                && text.contains("REDIAL_ENV: expected development or production, got 'prod'")
        }
    }

    /// A secret may come from a file (`<NAME>_FILE`), its final newline dropped; what cannot be
    /// read, an empty file, both forms at once, or a file for a variable that holds no secret is
    /// refused, naming the variable.
    @Test func secretsComeFromFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("redial-secrets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func file(_ name: String, _ text: String) throws -> String {
            let url = directory.appendingPathComponent(name)
            try Data(text.utf8).write(to: url)
            return url.path
        }
        let settings = try RedialSettings(environment: [
            "REDIAL_TELEPHONY_SECRET_FILE": try file("telephony", "from-a-file-0123456789abcdef\n"),
            "REDIAL_TELEPHONY_SECRET_PREVIOUS_FILE": try file("previous", "the-one-before-0123456789"),
            "REDIAL_ADMIN_TOKEN_FILE": try file("admin", "admin-token-from-a-file\r\n"),
            "REDIAL_DATABASE_URL_FILE": try file("database", "postgres://u:secret@db:5433/x\n"),
        ])
        #expect(settings.telephonySecret == "from-a-file-0123456789abcdef")
        #expect(settings.previousTelephonySecret == "the-one-before-0123456789")
        #expect(settings.adminToken == "admin-token-from-a-file")
        #expect(settings.database.password == "secret")

        func problems(_ environment: [String: String]) -> [String] {
            do {
                _ = try RedialSettings(environment: environment)
                return []
            } catch {
                return error.problems
            }
        }
        #expect(problems(["REDIAL_ADMIN_TOKEN_FILE": directory.appendingPathComponent("missing").path])
                == ["REDIAL_ADMIN_TOKEN_FILE: cannot read '\(directory.appendingPathComponent("missing").path)'"])
        #expect(problems(["REDIAL_ADMIN_TOKEN_FILE": try file("empty", "\n")]).first?.hasSuffix("is empty") == true)
        #expect(problems(["REDIAL_ADMIN_TOKEN_FILE": try file("both", "admin-token-from-a-file"), "REDIAL_ADMIN_TOKEN": "admin-token-in-the-env"])
                == ["REDIAL_ADMIN_TOKEN_FILE: REDIAL_ADMIN_TOKEN is set too; give the secret one way"])
        #expect(problems(["REDIAL_HTTP_PORT_FILE": try file("port", "9000")]).first?.hasPrefix("REDIAL_HTTP_PORT_FILE: only a secret") == true)
        // A file's secret is checked like any other.
        #expect(problems(["REDIAL_TELEPHONY_SECRET_FILE": try file("short", "short")]) == ["REDIAL_TELEPHONY_SECRET: expected at least 16 characters"])
        #expect(problems(["REDIAL_TELEPHONY_SECRET": "the-same-secret-twice", "REDIAL_TELEPHONY_SECRET_PREVIOUS": "the-same-secret-twice"])
                == ["REDIAL_TELEPHONY_SECRET_PREVIOUS: the same as REDIAL_TELEPHONY_SECRET"])
    }

    @Test func readsNotificationAndStorageLimits() throws {
        let settings = try RedialSettings(environment: ["REDIAL_EMAIL_PER_RECIPIENT": "3/90s", "REDIAL_S3_PART_BYTES": "6291456",
                                                        "REDIAL_RECORDING_MAX_BYTES": "1000"])
        #expect(settings.emailPerRecipient == .init(limit: 3, windowSeconds: 90))
        #expect(settings.s3PartBytes == 6 << 20 && settings.recordingMaxBytes == 1000)
        #expect(try RedialSettings(environment: [:]).emailPerRecipient == .init(limit: 20, windowSeconds: 3600))
    }

    @Test(arguments: ["20", "20/", "0/1h", "20/1d", "x/1h", "20/-1m", "20/8d"])
    func refusesMalformedRates(text: String) {
        #expect {
            try RedialSettings(environment: ["REDIAL_EMAIL_PER_RECIPIENT": text, "REDIAL_S3_PART_BYTES": "1024"])
        } throws: { error in
            let problems = (error as? SettingsError)?.problems ?? []
            return problems.contains { $0.hasPrefix("REDIAL_EMAIL_PER_RECIPIENT: expected N/<duration>") && $0.contains("'\(text)'") }
                && problems.contains { $0.hasPrefix("REDIAL_S3_PART_BYTES: expected bytes between 5 MiB") }
        }
    }

    @Test(arguments: ["1.2.3", "256.0.0.1", "1.2.3.4/", "::1::2", "12345::", "a.b.c.d", ""])
    func rejectsMalformedAddresses(text: String) {
        #expect(NetworkRange(parsing: text) == nil)
    }

    @Test func matchesOnlyTheSameFamily() throws {
        let v4 = try #require(NetworkRange(parsing: "127.0.0.1"))
        #expect(v4.contains("127.0.0.1"))
        #expect(!v4.contains("127.0.0.2"))
        #expect(!v4.contains("::1"))
        let all = try #require(NetworkRange(parsing: "0.0.0.0/0"))
        #expect(all.contains("8.8.8.8"))
    }
}
