import Domain
import Foundation
import HTTPClient
import Providers
import Queue

/// `recording.upload` (`{"callback_id", "attempt", "url"}`, written to the outbox when a call
/// with a recording completes): downloads the recording to a temporary file (streamed, bounded
/// by `REDIAL_RECORDING_MAX_BYTES`, stall and total timeouts), uploads it (multipart when large;
/// the store's ETag checked against the MD5s sent), checks the stored size, and records key,
/// size and SHA-256 with the effect `recording:<callback>:<attempt>`. A replay after the record
/// finds the effect done; a replay before it uploads the same bytes to the same key again.
struct RecordingUploadJob: ServiceJob {
    typealias Args = RecordingUploadArgs
    let services: JobServices
    static var policyFile: [UInt8] { PackageResources.recording_upload_policy_json }

    func work(_ payload: RecordingUploadArgs, job: Job) async throws -> JobOutcome {
        let attempt = payload.attempt
        guard attempt > 0 else { throw PermanentJobError("attempt \(attempt) is not a positive number") }
        // Checked first, before anything is looked up for it: the URL came from outside.
        let address = try await services.recordings.source.address(for: payload.url)
        let recordings = Recordings(database: services.flow.database)
        let effect = Recordings.effectKey(callbackID: payload.callback_id.text, attempt: attempt)
        if case .done = try await EffectLedger(database: services.flow.database).begin(effect) { return .completed }
        guard let siteID = try await recordings.site(callbackID: payload.callback_id.text) else {
            throw PermanentJobError("no callback \(payload.callback_id.text)")
        }
        // A file of this run's own: a run recovered from a worker that is only slow (its lease
        // lapsed) may still be going on this machine, and sharing the job's name, one run's
        // download or clean-up would truncate what the other uploads over the good copy.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("redial-recording-\(job.id)-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let response: HTTPClientResponse
        do {
            var request = HTTPClientRequest(url: payload.url, timeout: .seconds(600), maxResponseBytes: services.recordings.maxBytes)
            request.stallTimeout = .seconds(30)
            request.pinnedAddress = address
            response = try await HTTPClient().download(request, to: file)
        } catch where error.code == .responseTooLarge {
            throw PermanentJobError("recording of \(payload.callback_id.text) is over \(services.recordings.maxBytes) bytes: \(error.message)")
        } catch {
            return .retry(after: nil, reason: "download: \(error)")
        }
        guard response.status == 200 else {
            let reason = "provider answered \(response.status) for the recording of \(payload.callback_id.text)"
            // 404 may be a recording not ready yet; other client errors will not get better.
            if (400..<500).contains(response.status) && response.status != 404 && response.status != 429 { throw PermanentJobError(reason) }
            return .retry(after: nil, reason: reason)
        }
        let storage = services.recordings.storage
        let key = "recordings/\(siteID)/\(payload.callback_id.text)/\(attempt).wav"
        let stored: StoredObject
        do {
            stored = try await storage.put(file: file, key: key, contentType: response.header("Content-Type") ?? "audio/wav")
            guard let head = try await storage.head(key), head.size == response.bodyBytes else {
                return .retry(after: nil, reason: "stored \(key) does not have the \(response.bodyBytes) bytes downloaded")
            }
        } catch let error as ObjectStorageError {
            return .retry(after: nil, reason: "upload: \(error)")
        }
        try await recordings.record(.init(callbackID: payload.callback_id.text, attempt: attempt, siteID: siteID, sourceURL: payload.url,
                                          bucket: storage.bucket, stored: stored))
        return .completed
    }
}
