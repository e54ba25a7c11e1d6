import CCurl
#if canImport(Glibc)
import Glibc
#endif

/// Owns one libcurl easy handle and its header list for a single transfer, and frees both.
/// Not `Sendable`: created, performed and dropped on one thread.
final class CurlTransfer {
    private let handle: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var resolveList: UnsafeMutablePointer<curl_slist>?
    private let sink: ResponseSink
    private let request: HTTPClientRequest

    /// libcurl's global state must be set up once, before any handle exists.
    private static let globalInit: Void = { _ = curl_global_init(Int(CURL_GLOBAL_ALL)) }()

    /// - Parameter bodyFile: an open file descriptor the body is written to instead of memory.
    init(_ request: HTTPClientRequest, bodyFile: Int32? = nil) throws(HTTPClientError) {
        _ = Self.globalInit
        guard let handle = curl_easy_init() else {
            throw HTTPClientError(.invalidRequest, "libcurl could not allocate a handle")
        }
        self.handle = handle
        self.request = request
        sink = ResponseSink(limit: request.maxResponseBytes, file: bodyFile)
        try configure()
    }

    deinit {
        curl_slist_free_all(headerList)
        curl_slist_free_all(resolveList)
        curl_easy_cleanup(handle)
    }

    private func configure() throws(HTTPClientError) {
        let method = request.method.uppercased()
        guard !method.isEmpty, method.allSatisfy({ $0.isLetter }) else {
            throw HTTPClientError(.invalidRequest, "method '\(request.method)' is not a token")
        }
        try set(CURLOPT_URL, request.url)
        try set(CURLOPT_PROTOCOLS_STR, "http,https")
        try set(CURLOPT_NOSIGNAL, 1)  // signals would hit an arbitrary thread of this process
        try set(CURLOPT_CONNECTTIMEOUT_MS, Int(request.connectTimeout.milliseconds))
        try set(CURLOPT_TIMEOUT_MS, Int(request.timeout.milliseconds))
        if let address = request.pinnedAddress {
            guard let url = URLParts(request.url) else { throw HTTPClientError(.invalidRequest, "cannot pin an address for \(URLParts.redacted(request.url))") }
            let literal = address.contains(":") ? "[\(address)]" : address
            resolveList = curl_slist_append(resolveList, "\(url.host):\(url.port):\(literal)")
            try check(ccurl_setopt_slist(handle, CURLOPT_RESOLVE, resolveList), "RESOLVE")
        }
        if let signature = request.awsSigV4 {
            try set(CURLOPT_AWS_SIGV4, "aws:amz:\(signature.region):\(signature.service)")
            try set(CURLOPT_USERNAME, signature.accessKey)
            try set(CURLOPT_PASSWORD, signature.secretKey)
        }
        // Refuse at once when the announced length is over the limit; the sink enforces it otherwise.
        // Not for HEAD: its Content-Length describes a body that never comes.
        if method != "HEAD" {
            try check(ccurl_setopt_off_t(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(request.maxResponseBytes)), "MAXFILESIZE_LARGE")
        }
        if let stall = request.stallTimeout {
            try set(CURLOPT_LOW_SPEED_LIMIT, 1)
            try set(CURLOPT_LOW_SPEED_TIME, max(1, Int(stall.milliseconds / 1000)))
        }
        var headerLines = request.headers.map { "\($0.name): \($0.value)" }
        if let body = request.body {
            // No 100-continue round trip. Not on signed requests: libcurl would sign the
            // suppressed header as if it were sent, and the server's signature would differ.
            if request.awsSigV4 == nil { headerLines.append("Expect:") }
            try check(ccurl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)), "POSTFIELDSIZE")
            let status = body.withUnsafeBufferPointer { buffer in
                // COPYPOSTFIELDS copies the bytes: the buffer need not outlive this call.
                ccurl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS,
                                     UnsafeMutableRawPointer(mutating: buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!))
            }
            try check(status, "COPYPOSTFIELDS")
        }
        if method == "HEAD" {
            try set(CURLOPT_NOBODY, 1)
        } else if method != (request.body == nil ? "GET" : "POST") {
            try set(CURLOPT_CUSTOMREQUEST, method)
        }
        for line in headerLines {
            // On bytes: "\r\n" is one Character, so a Character search would miss it.
            guard !line.utf8.contains(13), !line.utf8.contains(10) else {
                throw HTTPClientError(.invalidRequest, "header '\(line.prefix(40))' contains a line break")
            }
            headerList = curl_slist_append(headerList, line)
        }
        try check(ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList), "HTTPHEADER")
        let context = Unmanaged.passUnretained(sink).toOpaque()
        try check(ccurl_setopt_callback(handle, CURLOPT_WRITEFUNCTION, { data, size, count, context in
            Unmanaged<ResponseSink>.fromOpaque(context!).takeUnretainedValue().appendBody(data, size * count)
        }), "WRITEFUNCTION")
        try check(ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, context), "WRITEDATA")
        try check(ccurl_setopt_callback(handle, CURLOPT_HEADERFUNCTION, { data, size, count, context in
            Unmanaged<ResponseSink>.fromOpaque(context!).takeUnretainedValue().appendHeader(data, size * count)
        }), "HEADERFUNCTION")
        try check(ccurl_setopt_pointer(handle, CURLOPT_HEADERDATA, context), "HEADERDATA")
    }

    /// Runs the transfer, blocking the calling thread until it ends.
    func perform() throws(HTTPClientError) -> HTTPClientResponse {
        let code = withExtendedLifetime(sink) { curl_easy_perform(handle) }
        guard code == CURLE_OK else {
            let reason = String(cString: curl_easy_strerror(code))
            var seconds = 0.0
            _ = ccurl_getinfo_double(handle, CURLINFO_TOTAL_TIME, &seconds)
            let elapsed = Duration.milliseconds(Int64(seconds * 1000))
            // Never the whole URL: its userinfo or query may carry a credential.
            let target = "\(request.method) \(URLParts.redacted(request.url))"
            switch code {
            case CURLE_OPERATION_TIMEDOUT where request.stallTimeout != nil && elapsed < request.timeout:
                throw HTTPClientError(.timeout, "\(target): transfer stalled for \(request.stallTimeout!)")
            case CURLE_OPERATION_TIMEDOUT:
                throw HTTPClientError(.timeout, "\(target): no complete response within \(request.timeout)")
            case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
                throw HTTPClientError(.connectionFailed, "\(target): \(reason)")
            case CURLE_WRITE_ERROR where sink.overflowed, CURLE_FILESIZE_EXCEEDED:
                throw HTTPClientError(.responseTooLarge, "\(target): response body over \(request.maxResponseBytes) bytes")
            case CURLE_WRITE_ERROR where sink.fileError != nil:
                throw HTTPClientError(.transfer, "\(target): writing the body failed: errno \(sink.fileError!)")
            case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
                throw HTTPClientError(.invalidRequest, "\(target): \(reason)")
            default:
                throw HTTPClientError(.transfer, "\(target): \(reason)")
            }
        }
        var status = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPClientResponse(status: status, headers: sink.headers, body: sink.body, bodyBytes: sink.received)
    }

    private func set(_ option: CURLoption, _ value: Int) throws(HTTPClientError) {
        try check(ccurl_setopt_long(handle, option, value), "\(option)")
    }

    private func set(_ option: CURLoption, _ value: String) throws(HTTPClientError) {
        try check(ccurl_setopt_string(handle, option, value), "\(option)")
    }

    private func check(_ code: CURLcode, _ what: String) throws(HTTPClientError) {
        guard code == CURLE_OK else {
            throw HTTPClientError(.invalidRequest, "libcurl refused option \(what): \(String(cString: curl_easy_strerror(code)))")
        }
    }
}

/// Collects what libcurl's callbacks deliver. Returning fewer bytes than offered aborts the
/// transfer, which is how the size limit stops a large body without reading it all.
final class ResponseSink {
    let limit: Int
    /// Where the body goes when it is not kept in memory.
    let file: Int32?
    var body: [UInt8] = []
    var received = 0
    var headers: [(name: String, value: String)] = []
    var overflowed = false
    var fileError: Int32?

    init(limit: Int, file: Int32?) {
        self.limit = limit
        self.file = file
    }

    func appendBody(_ data: UnsafeMutablePointer<CChar>?, _ length: Int) -> Int {
        guard let data else { return 0 }
        guard received + length <= limit else {
            overflowed = true
            return 0
        }
        if let file {
            var offset = 0
            while offset < length {
                let written = write(file, data + offset, length - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    fileError = errno
                    return 0
                }
                offset += written
            }
        } else {
            data.withMemoryRebound(to: UInt8.self, capacity: length) { body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length)) }
        }
        received += length
        return length
    }

    func appendHeader(_ data: UnsafeMutablePointer<CChar>?, _ length: Int) -> Int {
        guard let data else { return 0 }
        let line = data.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
        if line.hasPrefix("HTTP/") {
            headers = []  // a new response begins (after a redirect or 100 Continue)
        } else if let colon = line.firstIndex(of: ":") {
            var value = line[line.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" })
            while let last = value.last, last.isWhitespace { value = value.dropLast() }  // "\r\n" is one Character
            headers.append((String(line[..<colon]), String(value)))
        }
        return length
    }
}

extension Duration {
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
