import CryptoPrimitives
import Domain
import Foundation
import HTTPClient
import LocalServices
import PostgresClient
import Providers
import Queue
import RedisClient
import Testing
import TestSupport

/// Call recordings end to end: an answered call's recording is copied from the sandbox to a real
/// S3-compatible server (moto), byte-identical, single-part and multipart; too large a recording
/// is refused; the retention job deletes what is past the site's retention. Part of the
/// serialized dial suite: its cluster must be the only one dialling.
extension DialFlowTests {
    struct StoredRecording {
        let key: String
        let size: Int
        let sha256: String
        let parts: Int
        let deleted: Bool
    }

    func recording(_ callbackID: String) async throws -> StoredRecording? {
        try await database.query("""
            SELECT object_key, size_bytes::int AS size, sha256, parts, deleted_at IS NOT NULL AS deleted FROM recordings WHERE callback_id = $1::uuid
            """, [callbackID]).first.map {
            StoredRecording(key: try $0.decode("object_key"), size: try $0.decode("size"), sha256: try $0.decode("sha256"),
                            parts: try $0.decode("parts"), deleted: try $0.decode("deleted"))
        }
    }

    /// Requests a callback that is answered, waits for its recording to be stored, and returns
    /// the callback's id, the stored recording and the bytes the provider serves for the call.
    func answeredAndStored(_ cluster: Cluster, key: String, timeout: Duration) async throws -> (String, StoredRecording, [UInt8]) {
        let callback = try await request(cluster, key: key, phone: number(0))
        try await waitTerminal([callback])
        #expect(try await eventually(timeout: timeout) { try await recording(callback) != nil })
        let stored = try #require(try await recording(callback))
        let callID = try await database.query("SELECT provider_call_id FROM attempts WHERE callback_id = $1::uuid", [callback])[0]
            .decode("provider_call_id", as: String.self)
        let original = try await client.send(HTTPClientRequest(url: cluster.sandboxURL + "/recordings/\(callID).wav",
                                                               maxResponseBytes: 64 << 20)).body
        return (callback, stored, original)
    }

    func setRecordingBytes(_ cluster: Cluster, _ bytes: Int) async throws {
        let response = try await client.send(HTTPClientRequest(method: "POST", url: cluster.sandboxURL + "/sandbox/faults",
                                                               headers: [("Content-Type", "application/json")],
                                                               body: Array(#"{"recording_bytes": \#(bytes)}"#.utf8)))
        #expect(response.status == 200, "\(response.text)")
    }

    @Test func recordingsAreCopiedToObjectStorageVerifiedAndExpired() async throws {
        let store = try await ObjectStore()
        defer { store.stop() }
        let bucket = "recordings-" + String(UInt32.random(in: 0...UInt32.max))
        var settings = store.settings(bucket: bucket)
        settings["REDIAL_S3_PART_BYTES"] = String(5 << 20)
        settings["REDIAL_RECORDING_MAX_BYTES"] = String(12 << 20)
        let storage = S3ObjectStorage(baseURL: store.url, bucket: bucket, region: "us-east-1", accessKey: "test-key", secretKey: "test-secret")
        try await storage.ensureBucket()
        try await storage.ensureBucket()  // a second time finds it: not an error
        let cluster = try await Cluster(workers: 2, settings: settings)
        defer { cluster.stop() }
        let (_, key) = try await site()

        // 1. A small recording: one PUT.
        let (small, first, original) = try await answeredAndStored(cluster, key: key, timeout: .seconds(30))
        let copy = try await storage.get(first.key)
        #expect(copy == original, "the stored recording is byte-identical to the provider's")
        #expect(first.size == original.count && first.parts == 1)
        #expect(first.sha256 == SHA256.hash(original).hexString)

        // 2. 11 MiB: a multipart upload of three parts, still byte-identical.
        try await setRecordingBytes(cluster, 11 << 20)
        let (large, second, largeOriginal) = try await answeredAndStored(cluster, key: key, timeout: .seconds(60))
        #expect(second.parts == 3 && second.size == 11 << 20)
        #expect(try await storage.get(second.key) == largeOriginal)
        #expect(second.sha256 == SHA256.hash(largeOriginal).hexString)

        // 3. Over REDIAL_RECORDING_MAX_BYTES: refused (dead, with the reason), nothing stored.
        try await setRecordingBytes(cluster, 13 << 20)
        let huge = try await request(cluster, key: key, phone: number(0))
        try await waitTerminal([huge])
        #expect(try await eventually(timeout: .seconds(30)) {
            try await RedialBinary.run(["jobs", "dead", "--queue", "recordings"], environment: cluster.environment).output.contains(huge)
        })
        let dead = try await RedialBinary.run(["jobs", "dead", "--queue", "recordings"], environment: cluster.environment).output
        #expect(dead.split(separator: "\n").contains { $0.contains(huge) && $0.contains("over \(12 << 20) bytes") }, "\(dead)")
        #expect(try await recording(huge) == nil)

        // 4. Retention: the first recording is 100 days old for a site that keeps 90.
        try await database.query("UPDATE recordings SET uploaded_at = now() - interval '100 days' WHERE callback_id = $1::uuid", [small])
        let run = try await RedialBinary.run(["enqueue", "--type", "recording.retention"], environment: cluster.environment)
        #expect(run.status == 0, "\(run.output)")
        #expect(try await eventually(timeout: .seconds(30)) { try await recording(small)?.deleted == true })
        #expect(try await storage.head(first.key) == nil, "the object is gone from the bucket")
        #expect(try await recording(large)?.deleted == false)
        #expect(try await storage.head(second.key) != nil, "a recording inside its retention stays")
    }

    @Test func aRecordingURLCannotReachAnInternalAddress() async throws {
        // localhost is listed, as an operator might list a name: it still resolves to loopback.
        let cluster = try await Cluster(settings: ["REDIAL_RECORDING_HOSTS": "127.0.0.1,localhost"])
        defer { cluster.stop() }
        let redis = try await TestServices.redis()
        defer { Task { await redis.close() } }
        let queue = JobQueue(redis: redis)
        let urls = [
            "http://169.254.169.254/latest/meta-data/iam/security-credentials/": "is not a configured recording host",
            "http://localhost:\(URLParts(cluster.sandboxURL)?.port ?? 0)/recordings/x.wav": "resolves to",
            "file:///etc/passwd": "is not an http(s) URL",
        ]
        var ids: [String: String] = [:]
        for (url, _) in urls {
            let upload = RecordingUploadArgs(callbackID: try CallbackID(UUID().uuidString), attempt: 1, url: url)
            ids[url] = try await queue.enqueue(.init(upload, policy: JobPolicy(queue: "recordings"))).id
        }
        let keys = Keys(queue: "recordings")
        for (url, reason) in urls {
            let id = ids[url] ?? ""
            #expect(try await eventually(timeout: .seconds(20)) { try await redis.send("HGET", keys.job(id), "state").string == "dead" }, "\(url)")
            #expect(try await redis.send("HGET", keys.job(id), "attempt").string == "1", "dead at once: \(url)")
            let error = try await redis.send("HGET", keys.job(id), "last_error").string ?? ""
            #expect(error.contains(reason), "\(url): \(error)")
        }
    }
}
