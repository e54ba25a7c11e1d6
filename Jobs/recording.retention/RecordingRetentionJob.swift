import Domain
import Providers
import Queue

/// `recording.retention` (periodic, `Jobs/schedules.json`): deletes recordings past their site's
/// retention from object storage, then marks them deleted. Deleting is idempotent (a replay
/// deletes what is already gone); more than one batch left → it runs again at once.
struct RecordingRetentionJob: ServiceJob {
    let services: JobServices
    static let batch = 500
    static var policyFile: [UInt8] { PackageResources.recording_retention_policy_json }

    struct Args: JobArgs {
        static let jobType = "recording.retention"
    }

    func work(_ args: Args, job: Job) async throws -> JobOutcome {
        let recordings = Recordings(database: services.flow.database)
        let expired = try await recordings.expired(limit: Self.batch)
        for recording in expired {
            try Task.checkCancellation()
            try await services.recordings.storage.delete(recording.key)
            try await recordings.markDeleted(callbackID: recording.callbackID, attempt: recording.attempt)
        }
        return expired.count == Self.batch ? .snooze(.zero) : .completed
    }
}
