/// One HTTP request. Timeouts are per request because callers differ: a provider originate may
/// take seconds, a health probe must not.
public struct HTTPClientRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?
    /// Bound on the TCP (and TLS) handshake. Default 2 s.
    public var connectTimeout: Duration
    /// Bound on the whole exchange, connect included. Default 10 s.
    public var timeout: Duration
    /// A response body larger than this aborts the transfer with `.responseTooLarge`. Default 16 MiB.
    public var maxResponseBytes: Int
    /// Sign the request with AWS Signature Version 4 (libcurl computes it). For S3, also send
    /// `x-amz-content-sha256` with the body's SHA-256: libcurl signs that header's value.
    public var awsSigV4: AWSSigV4?
    /// Abort when fewer than 1 byte per second flows for this long (a stalled download). Nil: off.
    public var stallTimeout: Duration?
    /// Connect to this address instead of resolving the URL's host again (the address a
    /// caller resolved and checked; see `OutboundAddress`). Nil: resolve as usual.
    public var pinnedAddress: String?

    public static let defaultConnectTimeout: Duration = .seconds(2)
    public static let defaultTimeout: Duration = .seconds(10)
    public static let defaultMaxResponseBytes = 16 << 20

    public init(
        method: String = "GET",
        url: String,
        headers: [(name: String, value: String)] = [],
        body: [UInt8]? = nil,
        connectTimeout: Duration = defaultConnectTimeout,
        timeout: Duration = defaultTimeout,
        maxResponseBytes: Int = defaultMaxResponseBytes
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
    }
}

/// Credentials and scope of an AWS Signature Version 4. libcurl (7.88) signs the query string
/// as written: give it canonical (sorted by name, `name=value` even when the value is empty).
public struct AWSSigV4: Sendable {
    public let region: String
    public let service: String
    public let accessKey: String
    public let secretKey: String

    public init(region: String, service: String = "s3", accessKey: String, secretKey: String) {
        self.region = region
        self.service = service
        self.accessKey = accessKey
        self.secretKey = secretKey
    }
}

public struct HTTPClientResponse: Sendable {
    public let status: Int
    /// Headers of the final response (those of redirects and `100 Continue` are dropped).
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]
    /// Bytes of body received (into `body`, or into the file of a download).
    public let bodyBytes: Int

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8], bodyBytes: Int? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.bodyBytes = bodyBytes ?? body.count
    }

    /// The first header of that name, compared case-insensitively.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// A request that got no HTTP response. A response with any status is not an error here.
public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidRequest = "invalid_request"
        case connectionFailed = "connection_failed"
        case timeout
        case responseTooLarge = "response_too_large"
        case transfer
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "http \(code.rawValue): \(message)" }
}
