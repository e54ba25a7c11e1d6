import Foundation
import HTTPClient

/// Prometheus's HTTP API (v1), what the console reads of it: a query's series now, and over a
/// range for their recent history.
public struct PrometheusAPI: Sendable {
    public let baseURL: String

    public init(baseURL: String) { self.baseURL = baseURL }

    /// One series: its labels and its samples (time in seconds, value), oldest first.
    public struct Series: Sendable {
        public let labels: [String: String]
        public let samples: [(time: Double, value: Double)]
    }

    /// `query` evaluated at `start`, `start + step`, … up to `end` (a range query); an instant
    /// query when `start` is nil.
    public func query(_ query: String, start: Date? = nil, end: Date = Date(), step: Duration = .seconds(60)) async throws(AlertingError) -> [Series] {
        var components = URLComponents(string: baseURL + (start == nil ? "/api/v1/query" : "/api/v1/query_range"))
        var items = [URLQueryItem(name: "query", value: query)]
        if let start {
            items += [URLQueryItem(name: "start", value: String(start.timeIntervalSince1970)),
                      URLQueryItem(name: "end", value: String(end.timeIntervalSince1970)),
                      URLQueryItem(name: "step", value: String(step.components.seconds))]
        }
        components?.queryItems = items
        guard let url = components?.string else { throw AlertingError("Prometheus URL \(baseURL) is not a URL") }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient().send(HTTPClientRequest(url: url, timeout: .seconds(10)))
        } catch {
            throw AlertingError("cannot reach Prometheus at \(baseURL): \(error)")
        }
        guard response.status == 200, let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
              let data = object["data"] as? [String: Any], let result = data["result"] as? [[String: Any]] else {
            throw AlertingError("Prometheus answered \(response.status) to \(query): \(response.text.prefix(200))")
        }
        return result.map { series in
            let labels = (series["metric"] as? [String: String]) ?? [:]
            let points = (series["values"] as? [[Any]]) ?? ((series["value"] as? [Any]).map { [$0] } ?? [])
            let samples = points.compactMap { point -> (Double, Double)? in
                guard point.count == 2, let time = point[0] as? Double, let text = point[1] as? String, let value = Double(text) else { return nil }
                return (time, value)
            }
            return Series(labels: labels, samples: samples)
        }
    }
}
