import Domain
import Foundation
import Queue

/// `callback.dial` (`{"callback_id": "…"}`): one attempt of a callback. Outside the site's
/// working hours it snoozes until the next opening. Otherwise it places the call through the
/// effect ledger (a replay reconciles instead of ringing again) and schedules the poll that
/// finds the result if the provider's webhook never comes.
struct CallbackDialJob: JobHandler {
    let services: JobServices

    struct Payload: Decodable {
        let callback_id: String
    }

    func run(_ job: Job) async throws -> JobOutcome {
        let id = try job.decode(Payload.self).callback_id
        switch try await services.flow.dial(callbackID: id) {
        case .nothing:
            return .completed
        case .closedUntil(let opening):
            // Not through the outbox: a replay of this job reaches this line again, and the
            // trigger's dedup keys send its messages once.
            if let context = try await services.flow.context(callbackID: id) {
                let format = DateFormatter()
                format.timeZone = context.timeZone
                format.dateFormat = "HH:mm dd.MM.yyyy"
                let opening = format.string(from: opening) + " (\(context.timeZone.identifier))"
                try await services.notify(Trigger(name: "after_hours", callbackID: id, instance: id, variables: ["opening": opening]),
                                          context: context)
            }
            return .snooze(.milliseconds(Int64(max(0, opening.timeIntervalSinceNow) * 1000)))
        case .dialed(let attempt, let callID):
            try await services.follow(callbackID: id, type: "callback.check",
                                      payload: ["callback_id": id, "attempt": attempt, "call_id": callID],
                                      delay: JobServices.firstCheck, dedupKey: "callback.check:\(id):\(attempt)")
            return .completed
        case .ended(_, let next):
            try await services.after(callbackID: id, next)
            return .completed
        }
    }
}
