import CryptoPrimitives
import Domain
import Foundation
import HTTPClient
import LocalServices
import PostgresClient
import Providers
import Testing
import TestSupport

/// The cabinet in headless Chromium: an owner follows the mailed link, plays a callback's
/// recording (a real WAV from S3-compatible storage, through its signed link), changes the
/// widget's colour and text and sees the live preview follow before saving, saves, and the
/// widget on the site (the demo page with the site's key) shows the change. A screenshot is
/// saved under .run/test-artifacts/.
@Suite struct CabinetBrowserTests {
    /// One second of a 440 Hz tone: 8 kHz, 16-bit mono PCM.
    static func tone() -> [UInt8] {
        let samples = (0..<8000).map { Int16(8000 * sin(Double($0) * 2 * .pi * 440 / 8000)) }
        func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
        let data = samples.flatMap { le($0) }
        return Array("RIFF".utf8) + le(UInt32(36 + data.count)) + Array("WAVEfmt ".utf8) + le(UInt32(16)) + le(UInt16(1)) + le(UInt16(1))
            + le(UInt32(8000)) + le(UInt32(16000)) + le(UInt16(2)) + le(UInt16(16)) + Array("data".utf8) + le(UInt32(data.count)) + data
    }

    @Test func anOwnerPlaysARecordingAndSeesTheWidgetChangeLiveThenOnTheSite() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium"), FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver") else {
            throw SetupError("Chromium is not installed: run `make deps` (chromium, chromium-driver, python3-selenium)")
        }
        let objects = try await ObjectStore()
        defer { objects.stop() }
        let bucket = "cabinet-browser-\(UInt32.random(in: 0...UInt32.max))"
        let cabinet = try await CabinetHarness("cabinet", environment: objects.settings(bucket: bucket))
        defer { cabinet.stop() }
        let owner = CabinetHarness.owner()
        var new = SiteStore.NewSite(name: TestServices.uniqueName("Browser owner"), managers: ["+79160000001"])
        new.email = owner
        let (site, key) = try await SiteStore(database: cabinet.database, protection: .development).create(new)
        let storage = S3ObjectStorage(baseURL: objects.url, bucket: bucket, region: "us-east-1", accessKey: "test-key", secretKey: "test-secret")
        try await storage.ensureBucket()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tone-\(UUID().uuidString).wav")
        try Data(Self.tone()).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        _ = try await storage.put(file: file.path, key: "recordings/\(site.id).wav", contentType: "audio/wav")
        let callback = try await cabinet.database.query("""
            INSERT INTO callbacks (site_id, phone, phone_tail, status) VALUES ($1::uuid, 'sealed', '1234', 'completed') RETURNING id::text AS id
            """, [site.id])[0].decode("id", as: String.self)
        try await cabinet.database.query("""
            INSERT INTO recordings (callback_id, attempt, site_id, source_url, bucket, object_key, size_bytes, sha256, etag, parts)
            VALUES ($1::uuid, 1, $2::uuid, 'http://carrier/rec', $3, $4, 16044, 'x', 'x', 1)
            """, [callback, site.id, bucket, "recordings/\(site.id).wav"])

        _ = try await cabinet.send("POST", "/cabinet/sign-in", form: "email=" + owner.replacingOccurrences(of: "@", with: "%40"))
        #expect(try await eventually(timeout: .seconds(10)) { try cabinet.links().count == 1 })
        let link = cabinet.api.base + (try #require(try cabinet.links().first))
        let artifacts = LocalHost.repositoryRoot.appendingPathComponent(".run/test-artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let screenshot = artifacts.appendingPathComponent("cabinet.png").path
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/drive_cabinet.py").path
        let browser = try ChildProcess("/usr/bin/python3", [script, link, "\(cabinet.api.base)/demo?site_key=\(key)", screenshot],
                                       logName: "cabinet-browser-\(site.id)")
        guard await browser.waitForExit(timeout: .seconds(120)) == 0 else { throw SetupError("the browser driver failed: \(browser.log)") }
        let line = browser.log.split(separator: "\n").last { $0.hasPrefix("{") } ?? ""
        let result = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "no result in \(browser.log)")

        #expect(result["signed_in"] as? Bool == true)
        #expect(result["play"] as? String == "ok" && (result["current_time"] as? Double ?? 0) > 0.2, "the recording plays: \(result)")
        #expect(abs((result["duration"] as? Double ?? 0) - 1) < 0.05 && result["media_error"] is NSNull, "the whole second, no error: \(result)")
        let before = result["preview_before"] as? [String] ?? []
        #expect(before == ["rgb(11, 122, 62)", "fixed", "Call me back"], "the preview renders with its own style under the cabinet's CSP: \(before)")
        #expect(result["preview_after"] as? [String] == ["rgb(170, 51, 0)", "fixed", "Ring me"], "the preview follows the form: \(result)")
        #expect((result["notice"] as? String)?.contains("widget saved") == true)
        #expect(result["demo"] as? [String] == ["rgb(170, 51, 0)", "fixed", "Ring me"], "the site's widget shows the change: \(result)")
        #expect(FileManager.default.fileExists(atPath: screenshot))
    }
}
