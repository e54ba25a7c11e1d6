import Foundation
import Queue

/// `recording.upload`: the recording of an answered attempt, where the carrier offers it.
public struct RecordingUploadArgs: JobArgs {
    public static let jobType = "recording.upload"
    public let callback_id: CallbackID
    public let attempt: Int
    public let url: String

    public init(callbackID: CallbackID, attempt: Int, url: String) {
        callback_id = callbackID
        self.attempt = attempt
        self.url = url
    }

    public var dedupKey: String { "\(Self.jobType):\(callback_id.text):\(attempt)" }

    enum CodingKeys: String, CodingKey { case callback_id, attempt, url }

    /// Builds before this type wrote `attempt` as text; a job they queued still runs.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        callback_id = try container.decode(CallbackID.self, forKey: .callback_id)
        url = try container.decode(String.self, forKey: .url)
        if let number = try? container.decode(Int.self, forKey: .attempt) {
            attempt = number
        } else {
            let text = try container.decode(String.self, forKey: .attempt)
            guard let number = Int(text) else {
                throw DecodingError.dataCorruptedError(forKey: .attempt, in: container, debugDescription: "'\(text)' is not a number")
            }
            attempt = number
        }
    }
}
