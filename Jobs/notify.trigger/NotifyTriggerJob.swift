import Domain
import Queue

/// `notify.trigger` (a `Trigger`, written to the outbox by the transaction that fired it):
/// queues the rule's SMS and email, one job per recipient under its own effect key. Re-running
/// it queues the same jobs under the same dedup keys, so nothing is sent twice.
struct NotifyTriggerJob: ServiceJob {
    typealias Args = Trigger
    let services: JobServices
    static var policyFile: [UInt8] { PackageResources.notify_trigger_policy_json }

    func work(_ trigger: Trigger, job: Job) async throws -> JobOutcome {
        guard services.messages.rules[trigger.trigger] != nil else {
            throw PermanentJobError("trigger '\(trigger.trigger)' is not declared in Jobs/notify.sms/triggers.json")
        }
        try await services.notify(trigger)
        return .completed
    }
}
