import Foundation
import HTTPClient

/// Alertmanager's API v2, as on-call uses it from the command line: the alerts it holds, and
/// silences. (An acknowledgement is Redial's, `PageAcks.acknowledge`: a silence would also swallow
/// the alert's resolution.)
public struct Alertmanager: Sendable {
    public let baseURL: String

    public init(baseURL: String) { self.baseURL = baseURL }

    /// One alert as `redial alerts list --json` prints it.
    public struct Alert: Codable, Sendable, Equatable {
        /// Alertmanager's fingerprint: what `ack` takes.
        public let id: String
        public let name: String
        /// firing, silenced (or inhibited: suppressed by another alert), resolved
        public let state: String
        public let labels: [String: String]
        public let since: String
        public let summary: String?
    }

    struct WireAlert: Decodable {
        struct Status: Decodable {
            let state: String
            let silencedBy: [String]
            let inhibitedBy: [String]
        }
        let fingerprint: String
        let labels: [String: String]
        let annotations: [String: String]?
        let startsAt: String
        let endsAt: String?
        let status: Status
    }

    public func alerts() async throws(AlertingError) -> [Alert] {
        let response = try await send(HTTPClientRequest(url: baseURL + "/api/v2/alerts", timeout: .seconds(10)))
        guard response.status == 200, let wire = try? JSONDecoder().decode([WireAlert].self, from: Data(response.body)) else {
            throw AlertingError("Alertmanager answered \(response.status) to GET /api/v2/alerts: \(response.text.prefix(200))")
        }
        let now = ISO8601DateFormatter().string(from: Date())
        return wire.map { alert in
            let state = switch alert.status.state {
            case "suppressed": alert.status.silencedBy.isEmpty ? "inhibited" : "silenced"
            case _ where (alert.endsAt ?? "9") < now: "resolved"
            default: "firing"
            }
            return Alert(id: alert.fingerprint, name: alert.labels["alertname"] ?? "", state: state, labels: alert.labels,
                         since: alert.startsAt, summary: alert.annotations?["summary"])
        }.sorted { ($0.name, $0.since) < ($1.name, $1.since) }
    }

    /// A label matcher of a silence: `name=value`, `name!=value`, `name=~regex`, `name!~regex`.
    public struct Matcher: Sendable, Equatable {
        public let name: String
        public let value: String
        public let isRegex: Bool
        public let isEqual: Bool

        public init(parsing text: String) throws(AlertingError) {
            for (op, regex, equal) in [("!~", true, false), ("=~", true, true), ("!=", false, false), ("=", false, true)] {
                guard let range = text.range(of: op) else { continue }
                let name = String(text[..<range.lowerBound]).trimmingCharacters(in: .whitespaces)
                let value = String(text[range.upperBound...]).trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else { break }
                if regex, (try? NSRegularExpression(pattern: value)) == nil {
                    throw AlertingError("matcher '\(text)': '\(value)' is not a regular expression")
                }
                (self.name, self.value, isRegex, isEqual) = (name, value, regex, equal)
                return
            }
            throw AlertingError("matcher '\(text)': expected name=value, name!=value, name=~regex or name!~regex")
        }

        public init(name: String, value: String) {
            (self.name, self.value, isRegex, isEqual) = (name, value, false, true)
        }

        var json: [String: Any] { ["name": name, "value": value, "isRegex": isRegex, "isEqual": isEqual] }
    }

    /// Creates a silence; returns its id.
    public func silence(_ matchers: [Matcher], for duration: Duration, by author: String, comment: String) async throws(AlertingError) -> String {
        guard !matchers.isEmpty else { throw AlertingError("a silence needs at least one matcher") }
        let format = ISO8601DateFormatter()
        let now = Date()
        let body: [String: Any] = [
            "matchers": matchers.map(\.json), "startsAt": format.string(from: now),
            "endsAt": format.string(from: now.addingTimeInterval(Double(duration.components.seconds))),
            "createdBy": author, "comment": comment,
        ]
        let bytes = (try? JSONSerialization.data(withJSONObject: body)).map(Array.init) ?? []
        let response = try await send(HTTPClientRequest(method: "POST", url: baseURL + "/api/v2/silences",
                                                        headers: [("Content-Type", "application/json")], body: bytes, timeout: .seconds(10)))
        guard response.status == 200, let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
              let id = object["silenceID"] as? String else {
            throw AlertingError("Alertmanager answered \(response.status) to the silence: \(response.text.prefix(300))")
        }
        return id
    }

    private func send(_ request: HTTPClientRequest) async throws(AlertingError) -> HTTPClientResponse {
        do {
            return try await HTTPClient().send(request)
        } catch {
            throw AlertingError("cannot reach Alertmanager at \(baseURL): \(error)")
        }
    }
}
