import Domain
import Queue

/// `callback.check` (`{"callback_id", "attempt", "call_id"}`): asks the provider how attempt n's
/// call ended when no webhook has said so; polls again while the call goes on.
struct CallbackCheckJob: JobHandler {
    let services: JobServices

    struct Payload: Decodable {
        let callback_id: String
        let attempt: Int
        let call_id: String
    }

    func run(_ job: Job) async throws -> JobOutcome {
        let payload = try job.decode(Payload.self)
        guard let next = try await services.flow.check(callbackID: payload.callback_id, attempt: payload.attempt, callID: payload.call_id) else {
            return .retry(after: nil, reason: "call \(payload.call_id) still in progress")
        }
        try await services.after(callbackID: payload.callback_id, next)
        return .completed
    }
}
