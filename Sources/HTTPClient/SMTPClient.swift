import CCurl
import Dispatch

/// Sends email over SMTP with libcurl: the envelope (MAIL FROM, RCPT TO) and a ready RFC 5322
/// message. Each send blocks a Dispatch worker thread, never Swift's cooperative pool.
public struct SMTPClient: Sendable {
    /// `smtp://host:port` (or `smtps://`).
    public let url: String
    public let timeout: Duration

    public init(url: String, timeout: Duration = .seconds(30)) {
        self.url = url
        self.timeout = timeout
    }

    public func send(from: String, to recipients: [String], message: [UInt8]) async throws(HTTPClientError) {
        let url = self.url
        let timeout = self.timeout
        let result: Result<Void, HTTPClientError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Result { () throws(HTTPClientError) in
                    try CurlMailTransfer(url: url, from: from, to: recipients, message: message, timeout: timeout).perform()
                })
            }
        }
        try result.get()
    }
}

/// Owns one libcurl easy handle, its recipient list and the message being read out, and frees them.
final class CurlMailTransfer {
    private let handle: UnsafeMutableRawPointer
    private var recipients: UnsafeMutablePointer<curl_slist>?
    private let source: MessageSource
    private let url: String

    init(url: String, from: String, to: [String], message: [UInt8], timeout: Duration) throws(HTTPClientError) {
        guard let handle = curl_easy_init() else { throw HTTPClientError(.invalidRequest, "libcurl could not allocate a handle") }
        self.handle = handle
        self.url = url
        source = MessageSource(message)
        for address in [from] + to where address.utf8.contains(where: { $0 < 0x20 }) || !address.contains("@") {
            throw HTTPClientError(.invalidRequest, "'\(address.prefix(60))' is not an email address")
        }
        guard !to.isEmpty else { throw HTTPClientError(.invalidRequest, "an email needs at least one recipient") }
        for address in to { recipients = curl_slist_append(recipients, "<\(address)>") }
        try check(ccurl_setopt_string(handle, CURLOPT_URL, url))
        try check(ccurl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "smtp,smtps"))
        try check(ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        try check(ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(timeout.components.seconds * 1000)))
        try check(ccurl_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(from)>"))
        try check(ccurl_setopt_slist(handle, CURLOPT_MAIL_RCPT, recipients))
        try check(ccurl_setopt_long(handle, CURLOPT_UPLOAD, 1))
        try check(ccurl_setopt_callback(handle, CURLOPT_READFUNCTION, { buffer, size, count, context in
            Unmanaged<MessageSource>.fromOpaque(context!).takeUnretainedValue().read(into: buffer, capacity: size * count)
        }))
        try check(ccurl_setopt_pointer(handle, CURLOPT_READDATA, Unmanaged.passUnretained(source).toOpaque()))
    }

    deinit {
        curl_slist_free_all(recipients)
        curl_easy_cleanup(handle)
    }

    func perform() throws(HTTPClientError) {
        let code = withExtendedLifetime(source) { curl_easy_perform(handle) }
        guard code == CURLE_OK else {
            let reason = String(cString: curl_easy_strerror(code))
            switch code {
            case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST: throw HTTPClientError(.connectionFailed, "SMTP \(URLParts.redacted(url)): \(reason)")
            case CURLE_OPERATION_TIMEDOUT: throw HTTPClientError(.timeout, "SMTP \(URLParts.redacted(url)): \(reason)")
            default: throw HTTPClientError(.transfer, "SMTP \(URLParts.redacted(url)): \(reason)")
            }
        }
    }

    private func check(_ code: CURLcode) throws(HTTPClientError) {
        guard code == CURLE_OK else { throw HTTPClientError(.invalidRequest, "libcurl refused an SMTP option: \(String(cString: curl_easy_strerror(code)))") }
    }
}

/// Hands the message to libcurl's read callback piece by piece.
final class MessageSource {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func read(into buffer: UnsafeMutablePointer<CChar>?, capacity: Int) -> Int {
        guard let buffer, offset < bytes.count else { return 0 }
        let count = min(capacity, bytes.count - offset)
        bytes.withUnsafeBufferPointer { source in
            UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + offset, byteCount: count)
        }
        offset += count
        return count
    }
}
