import CryptoPrimitives
import Domain
import Queue

/// `data.reseal` (nightly, `Jobs/schedules.json`, and `redial data reseal` at once): seals
/// personal data again under the first key of `REDIAL_DATA_KEYS`, in PostgreSQL
/// (`DataResealing`) and in the notification payloads Redis still holds (compare-and-set, so a
/// job that runs meanwhile is never disturbed). Opened with any key of the ring, so it runs while
/// old and new keys are both there; once it leaves nothing under an old key, that key can go.
struct DataResealJob: ServiceJob {
    let services: JobServices
    static var policyFile: [UInt8] { PackageResources.data_reseal_policy_json }

    struct Args: JobArgs {
        static let jobType = "data.reseal"
    }

    func work(_ args: Args, job: Job) async throws -> JobOutcome {
        _ = try await Self.reseal(services)
        return .completed
    }

    /// What was sealed again: rows per table, queued jobs, and jobs left under a key the ring
    /// does not hold.
    static func reseal(_ services: JobServices) async throws -> (rows: DataResealing.Report, jobs: Int, unopenableJobs: Int) {
        let protection = services.protection
        let rows = try await DataResealing(database: services.flow.database, protection: protection).run()
        var unopenable = 0
        let jobs = try await services.jobs.rewritePayloads(types: [SMSChannel.jobType, EmailChannel.jobType]) { type, payload in
            do {
                return type == SMSChannel.jobType ? try Notification<SMSChannel>.resealed(payload, protection: protection)
                    : try Notification<EmailChannel>.resealed(payload, protection: protection)
            } catch let error as CryptoError where error.code == .invalidKey {
                unopenable += 1
                return nil
            }
        }
        return (rows, jobs, unopenable)
    }
}

extension Catalog {
    /// `redial data reseal`: the `data.reseal` job's work, run now; a line saying what changed.
    public static func resealPersonalData(_ services: JobServices) async throws -> String {
        let (rows, jobs, unopenable) = try await DataResealJob.reseal(services)
        return "sealed again under key '\(services.protection.sealingKeyID)': \(rows), \(jobs) queued notifications"
            + (unopenable > 0 ? "; \(unopenable) queued notifications under keys REDIAL_DATA_KEYS does not hold, left as they are" : "")
    }
}
