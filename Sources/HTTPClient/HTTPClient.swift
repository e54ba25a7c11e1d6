import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Sends HTTP requests with libcurl. Each transfer blocks a Dispatch worker thread, never
/// Swift's cooperative pool.
public struct HTTPClient: Sendable {
    public init() {}

    public func send(_ request: HTTPClientRequest) async throws(HTTPClientError) -> HTTPClientResponse {
        try await perform { () throws(HTTPClientError) in try CurlTransfer(request).perform() }
    }

    /// Streams the response body into the file at `path` (created or truncated) instead of
    /// memory; `maxResponseBytes` bounds it. The response's `body` is empty; `bodyBytes` says
    /// how much was written. The file holds whatever came, whatever the status: check it.
    public func download(_ request: HTTPClientRequest, to path: String) async throws(HTTPClientError) -> HTTPClientResponse {
        try await perform { () throws(HTTPClientError) in
            let file = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard file >= 0 else { throw HTTPClientError(.invalidRequest, "cannot write \(path): errno \(errno)") }
            defer { close(file) }
            return try CurlTransfer(request, bodyFile: file).perform()
        }
    }

    private func perform(_ transfer: @escaping @Sendable () throws(HTTPClientError) -> HTTPClientResponse) async throws(HTTPClientError) -> HTTPClientResponse {
        try await offThread(transfer)
    }
}

/// Runs a blocking call (a transfer, a DNS look-up) on a Dispatch worker thread, never on
/// Swift's cooperative pool or a queue's serial executor, which it would stall.
func offThread<T: Sendable>(_ work: @escaping @Sendable () throws(HTTPClientError) -> T) async throws(HTTPClientError) -> T {
    let result: Result<T, HTTPClientError> = await withCheckedContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(returning: Result { () throws(HTTPClientError) in try work() })
        }
    }
    return try result.get()
}
