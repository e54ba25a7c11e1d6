import Dispatch

/// Sends HTTP requests with libcurl. Each transfer blocks a Dispatch worker thread, never
/// Swift's cooperative pool.
public struct HTTPClient: Sendable {
    public init() {}

    public func send(_ request: HTTPClientRequest) async throws(HTTPClientError) -> HTTPClientResponse {
        let result: Result<HTTPClientResponse, HTTPClientError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Result { () throws(HTTPClientError) in try CurlTransfer(request).perform() })
            }
        }
        return try result.get()
    }
}
