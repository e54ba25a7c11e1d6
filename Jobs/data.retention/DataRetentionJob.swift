import Domain
import Providers
import Queue

/// `data.retention` (periodic, `Jobs/schedules.json`): purges callbacks past their site's data
/// retention with everything about them, counted first into `callback_daily` for reports
/// (`DataRetention`). Their recordings leave object storage first (a delete is idempotent); the
/// rows go in one transaction, so a replay purges nothing twice. More than one batch left → it
/// runs again at once.
struct DataRetentionJob: ServiceJob {
    let services: JobServices
    static let batch = 200
    static var policyFile: [UInt8] { PackageResources.data_retention_policy_json }

    struct Args: JobArgs {
        static let jobType = "data.retention"
    }

    func work(_ args: Args, job: Job) async throws -> JobOutcome {
        let retention = DataRetention(database: services.flow.database)
        let expired = try await retention.expired(limit: Self.batch)
        for callback in expired {
            try Task.checkCancellation()
            for key in callback.storedRecordings { try await services.recordings.storage.delete(key) }
        }
        try await retention.purge(expired.map(\.callbackID))
        return expired.count == Self.batch ? .snooze(.zero) : .completed
    }
}
