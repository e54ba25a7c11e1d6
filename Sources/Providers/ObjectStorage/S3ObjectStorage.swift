import CryptoPrimitives
import Foundation
import HTTPClient

/// An S3-compatible bucket over libcurl with SigV4 signing, path-style addressing
/// (`<url>/<bucket>/<key>`). Every request carries `x-amz-content-sha256` (S3 requires it and
/// libcurl signs it) and every body a `Content-MD5`, so the server refuses a corrupted part.
public struct S3ObjectStorage: ObjectStorage {
    public let baseURL: String
    public let bucket: String
    public let signature: AWSSigV4
    /// Files above this size go up in parts of this size (S3: ≥ 5 MiB except the last).
    public let partBytes: Int
    let client = HTTPClient()

    public init(baseURL: String, bucket: String, region: String, accessKey: String, secretKey: String, partBytes: Int = 8 << 20) {
        self.baseURL = baseURL
        self.bucket = bucket
        signature = AWSSigV4(region: region, accessKey: accessKey, secretKey: secretKey)
        self.partBytes = partBytes
    }

    /// The object's URL. The query goes out canonical (sorted by name, `name=value`, encoded),
    /// because libcurl (7.88) signs it exactly as written.
    func url(_ key: String, query: [(name: String, value: String)] = []) -> String {
        let path = key.split(separator: "/").map { Self.encode(String($0)) }
        let pairs = query.sorted { $0.name < $1.name }.map { Self.encode($0.name) + "=" + Self.encode($0.value) }
        return "\(baseURL)/\(bucket)/" + path.joined(separator: "/") + (pairs.isEmpty ? "" : "?" + pairs.joined(separator: "&"))
    }

    /// RFC 3986 unreserved characters stay; everything else is percent-encoded (SigV4's rule).
    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")) ?? text
    }

    /// One signed request, whatever its answer. PUT and POST always carry a body (maybe empty,
    /// so that libcurl sends `Content-Length: 0`).
    func send(_ method: String, _ url: String, body: [UInt8] = [], headers: [(String, String)] = [],
              maxResponseBytes: Int = 1 << 20) async throws -> HTTPClientResponse {
        var all = headers + [("x-amz-content-sha256", SHA256.hash(body).hexString)]
        if !body.isEmpty { all.append(("Content-MD5", Data(MD5.hash(body)).base64EncodedString())) }
        let carriesBody = !body.isEmpty || method == "PUT" || method == "POST"
        var request = HTTPClientRequest(method: method, url: url, headers: all, body: carriesBody ? body : nil, timeout: .seconds(120),
                                        maxResponseBytes: maxResponseBytes)
        request.awsSigV4 = signature
        return try await client.send(request)
    }

    /// A signed request that must succeed (2xx).
    func request(_ method: String, _ url: String, body: [UInt8] = [], headers: [(String, String)] = []) async throws -> HTTPClientResponse {
        let response = try await send(method, url, body: body, headers: headers)
        guard (200..<300).contains(response.status) else {
            throw ObjectStorageError("object storage answered \(response.status) to \(method) \(URLParts.redacted(url)): \(Self.errorCode(response.text))")
        }
        return response
    }

    /// Creates the bucket unless it exists (development and tests; production buckets are provisioned).
    public func ensureBucket() async throws {
        do {
            _ = try await request("PUT", "\(baseURL)/\(bucket)")
        } catch let error as ObjectStorageError where error.message.contains("BucketAlreadyOwnedByYou") || error.message.contains("409") {
            return
        }
    }

    /// Uploads the file at `path` under `key`: one PUT up to `partBytes`, a multipart upload
    /// above it. Verifies the ETag the store computed against the MD5s sent. The file is read
    /// once: its SHA-256 is taken from the same reads.
    public func put(file path: String, key: String, contentType: String) async throws -> StoredObject {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ObjectStorageError("cannot read \(path)") }
        defer { try? handle.close() }
        let size = Int((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0)
        let whole = StreamingDigest(.sha256)
        if size <= partBytes {
            let body = Array(try handle.readToEnd() ?? Data())
            whole.update(body)
            let response = try await request("PUT", url(key), body: body, headers: [("Content-Type", contentType)])
            let expected = MD5.hash(body).hexString
            let etag = Self.etag(response)
            guard etag == expected else { throw ObjectStorageError("ETag \(etag) of \(key) is not the MD5 sent (\(expected))") }
            return StoredObject(key: key, size: body.count, etag: etag, parts: 1, sha256: whole.finish().hexString)
        }
        let created = try await request("POST", url(key, query: [("uploads", "")]), headers: [("Content-Type", contentType)])
        guard let uploadID = Self.element("UploadId", in: created.text) else {
            throw ObjectStorageError("object storage started no multipart upload for \(key): \(created.text.prefix(200))")
        }
        do {
            var etags: [String] = []
            var digests: [UInt8] = []
            var number = 1
            while let chunk = try handle.read(upToCount: partBytes), !chunk.isEmpty {
                let body = Array(chunk)
                whole.update(body)
                // An explicit type: libcurl would label the body a form, and servers may parse it as one.
                let response = try await request("PUT", url(key, query: [("partNumber", String(number)), ("uploadId", uploadID)]), body: body,
                                                 headers: [("Content-Type", "application/octet-stream")])
                let digest = MD5.hash(body)
                guard Self.etag(response) == digest.hexString else {
                    throw ObjectStorageError("part \(number) of \(key): ETag \(Self.etag(response)) is not the MD5 sent")
                }
                etags.append(digest.hexString)
                digests += digest
                number += 1
            }
            let manifest = "<CompleteMultipartUpload>" + etags.enumerated().map {
                "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\"\($0.element)\"</ETag></Part>"
            }.joined() + "</CompleteMultipartUpload>"
            let done = try await request("POST", url(key, query: [("uploadId", uploadID)]), body: Array(manifest.utf8),
                                         headers: [("Content-Type", "application/xml")])
            // S3 answers 200 with an <Error> body when completion fails late.
            if done.text.contains("<Error>") { throw ObjectStorageError("completing \(key): \(Self.errorCode(done.text))") }
            let expected = MD5.hash(digests).hexString + "-\(etags.count)"
            let etag = Self.element("ETag", in: done.text).map {
                $0.replacingOccurrences(of: "&quot;", with: "").replacingOccurrences(of: "&#34;", with: "").replacingOccurrences(of: "\"", with: "")
            } ?? ""
            guard etag == expected else { throw ObjectStorageError("multipart ETag \(etag) of \(key) is not \(expected)") }
            return StoredObject(key: key, size: size, etag: etag, parts: etags.count, sha256: whole.finish().hexString)
        } catch {
            _ = try? await request("DELETE", url(key, query: [("uploadId", uploadID)]))  // free the parts; the job retries from scratch
            throw error
        }
    }

    /// Size and ETag of a stored object, or nil when there is none.
    public func head(_ key: String) async throws -> (size: Int, etag: String)? {
        let response = try await send("HEAD", url(key))
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw ObjectStorageError("object storage answered \(response.status) to HEAD \(key)") }
        return (Int(response.header("Content-Length") ?? "") ?? 0, Self.etag(response))
    }

    /// The object's bytes (tests and tools; recordings are never read back by workers).
    public func get(_ key: String, maxBytes: Int = 64 << 20) async throws -> [UInt8] {
        let response = try await send("GET", url(key), maxResponseBytes: maxBytes)
        guard response.status == 200 else { throw ObjectStorageError("object storage answered \(response.status) to GET \(key)") }
        return response.body
    }

    /// Deletes the object; deleting one that is gone succeeds (S3 answers 204 either way).
    public func delete(_ key: String) async throws {
        _ = try await request("DELETE", url(key))
    }

    static func etag(_ response: HTTPClientResponse) -> String {
        (response.header("ETag") ?? "").replacingOccurrences(of: "\"", with: "")
    }

    static func element(_ name: String, in xml: String) -> String? {
        guard let start = xml.range(of: "<\(name)>"), let end = xml.range(of: "</\(name)>", range: start.upperBound..<xml.endIndex) else { return nil }
        return String(xml[start.upperBound..<end.lowerBound])
    }

    static func errorCode(_ xml: String) -> String {
        [element("Code", in: xml), element("Message", in: xml)].compactMap { $0 }.joined(separator: ": ").nonEmpty ?? String(xml.prefix(200))
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
