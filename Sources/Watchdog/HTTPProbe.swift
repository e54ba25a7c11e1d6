import HTTPClient

/// A GET that must answer 2xx: the API's `/readyz`, the carrier's health.
struct HTTPProbe: Probe {
    let url: String

    func check(timeout: Duration) async -> ProbeResult {
        do {
            let response = try await HTTPClient().send(HTTPClientRequest(url: url, connectTimeout: timeout, timeout: timeout))
            let detail = "\(URLParts.redacted(url)) answered \(response.status)"
            return (200..<300).contains(response.status) ? .success(detail) : .failure(detail)
        } catch {
            return .failure("\(URLParts.redacted(url)): \(error)")
        }
    }
}
