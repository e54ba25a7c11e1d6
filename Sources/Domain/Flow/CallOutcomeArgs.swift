import Providers
import Queue

/// `callback.outcome`: a carrier's status event, as its adapter read it (`CallEvent`).
public struct CallOutcomeArgs: JobArgs {
    public static let jobType = "callback.outcome"
    public let call_id: String
    /// nil: the event reported neither an outcome nor a SIP code.
    public let outcome: CallOutcome?
    public let duration_s: Int?
    public let recording_url: String?
    /// The carrier's SIP final response, for the callback's journey (absent from older events).
    public let sip_code: Int?

    public init(_ event: CallEvent) {
        call_id = event.call.callID
        outcome = event.call.outcome
        duration_s = event.call.durationSeconds
        recording_url = event.call.recordingURL
        sip_code = event.call.sipCode
    }

    /// One job per carrier event: its retries of the same event change nothing.
    public static func dedupKey(eventID: String) -> String { "\(jobType):\(eventID)" }
}
