import CryptoPrimitives
import Foundation
import HTTPClient
import LocalServices
import Testing
import TestSupport

/// Against a real HTTP server (Fixtures/http_fixture.py) started per suite.
@Suite struct HTTPClientTests {
    let server: ChildProcess
    let base: String
    let client = HTTPClient()

    init() async throws {
        let port = try LocalHost.freePort()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/http_fixture.py")
        server = try ChildProcess("/usr/bin/env", ["python3", script.path, String(port)], logName: "http-fixture-\(port)")
        base = "http://127.0.0.1:\(port)"
        let client = self.client
        let url = base + "/status/204"
        guard try await eventually(timeout: .seconds(30), { (try? await client.send(HTTPClientRequest(url: url)))?.status == 204 }) else {
            throw SetupError("HTTP fixture did not start: \(server.log)")
        }
    }

    struct Echo: Decodable {
        let method: String
        let headers: [String: String]
        let body: String
    }

    @Test func getReturnsStatusHeadersAndBody() async throws {
        let response = try await client.send(HTTPClientRequest(url: base + "/status/200"))
        #expect(response.status == 200)
        #expect(response.text == "status 200")
        #expect(response.header("x-fixture") == "yes")
        #expect(response.header("Content-Length") == "10")
    }

    @Test func postSendsBodyAndHeadersBinarySafe() async throws {
        let body: [UInt8] = [0, 1, 2, 255, 0]
        let response = try await client.send(HTTPClientRequest(
            method: "POST", url: base + "/echo", headers: [("Content-Type", "application/octet-stream"), ("X-Trace", "abc")],
            body: body))
        let echo = try JSONDecoder().decode(Echo.self, from: Data(response.body))
        #expect(echo.method == "POST")
        #expect(echo.body == "000102ff00")
        #expect(echo.headers["x-trace"] == "abc")
        #expect(echo.headers["expect"] == nil)
    }

    @Test(arguments: ["PUT", "DELETE", "PATCH"])
    func otherMethodsAreSentAsGiven(method: String) async throws {
        let response = try await client.send(HTTPClientRequest(method: method, url: base + "/echo", body: Array("{}".utf8)))
        #expect(try JSONDecoder().decode(Echo.self, from: Data(response.body)).method == method)
    }

    @Test func errorStatusesAreResponsesNotErrors() async throws {
        #expect(try await client.send(HTTPClientRequest(url: base + "/status/503")).status == 503)
        #expect(try await client.send(HTTPClientRequest(url: base + "/nowhere")).status == 404)
    }

    @Test func redirectsAreNotFollowed() async throws {
        let response = try await client.send(HTTPClientRequest(url: base + "/redirect"))
        #expect(response.status == 302)
        #expect(response.header("location") == "/echo")
    }

    @Test func aSlowServerTimesOut() async throws {
        await #expect {
            try await client.send(HTTPClientRequest(url: base + "/slow/3000", timeout: .milliseconds(300)))
        } throws: { error in
            (error as? HTTPClientError)?.code == .timeout
        }
    }

    @Test func aRefusedConnectionIsATypedError() async throws {
        let port = try LocalHost.freePort()
        await #expect {
            try await client.send(HTTPClientRequest(url: "http://127.0.0.1:\(port)/"))
        } throws: { error in
            (error as? HTTPClientError)?.code == .connectionFailed
        }
    }

    @Test func anOversizedBodyIsRefused() async throws {
        let fits = try await client.send(HTTPClientRequest(url: base + "/bytes/1000", maxResponseBytes: 1000))
        #expect(fits.body.count == 1000)
        await #expect {
            try await client.send(HTTPClientRequest(url: base + "/bytes/100000", maxResponseBytes: 1000))
        } throws: { error in
            (error as? HTTPClientError)?.code == .responseTooLarge
        }
    }

    func temporaryFile() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("redial-download-\(UInt64.random(in: 0...UInt64.max))").path
    }

    @Test func aDownloadStreamsTheBodyIntoAFile() async throws {
        let path = temporaryFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let response = try await client.download(HTTPClientRequest(url: base + "/trickle/250000"), to: path)
        #expect(response.status == 200 && response.body.isEmpty && response.bodyBytes == 250_000)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(repeating: UInt8(ascii: "y"), count: 250_000))
    }

    @Test(arguments: ["/bytes/100000", "/trickle/100000"])  // announced length, and unknown length
    func anOversizedDownloadIsRefused(path fixture: String) async throws {
        let path = temporaryFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        await #expect {
            try await client.download(HTTPClientRequest(url: base + fixture, maxResponseBytes: 10_000), to: path)
        } throws: { error in
            (error as? HTTPClientError)?.code == .responseTooLarge
        }
    }

    @Test func aHeadOfALargeBodyIsNotRefused() async throws {
        // The announced length is the body's, which a HEAD never receives.
        let response = try await client.send(HTTPClientRequest(method: "HEAD", url: base + "/bytes/100000", maxResponseBytes: 1000))
        #expect(response.status == 200 && response.header("Content-Length") == "100000" && response.body.isEmpty)
    }

    @Test func aStalledDownloadTimesOut() async throws {
        var request = HTTPClientRequest(url: base + "/stall/4000", timeout: .seconds(30))
        request.stallTimeout = .seconds(1)
        let path = temporaryFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        await #expect {
            try await client.download(request, to: path)
        } throws: { error in
            (error as? HTTPClientError)?.code == .timeout && "\(error)".contains("stalled")
        }
    }

    @Test(arguments: [("PUT", "/sigv4/bucket/recordings/a%20b.wav", Array("part bytes".utf8)),
                      ("POST", "/sigv4/bucket/key.wav?uploads=", [UInt8]()),
                      ("GET", "/sigv4/bucket/key.wav?partNumber=2&uploadId=x-y", [UInt8]())])
    func requestsAreSignedWithAWSSignatureVersion4(method: String, path: String, body: [UInt8]) async throws {
        var request = HTTPClientRequest(method: method, url: base + path, headers: [("x-amz-content-sha256", SHA256.hash(body).hexString)],
                                        body: method == "GET" ? nil : body)
        request.awsSigV4 = AWSSigV4(region: "eu-central-1", accessKey: "AKIDFIXTURE", secretKey: "fixture-secret")
        let response = try await client.send(request)
        let verdict = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        #expect(response.status == 200, "botocore computed another signature: \(response.text)")
        #expect(verdict?["region"] as? String == "eu-central-1" && verdict?["service"] as? String == "s3")
        #expect((verdict?["signed_headers"] as? [String])?.contains("x-amz-content-sha256") == true)
        // A wrong secret is caught by the same check: the test can fail.
        request.awsSigV4 = AWSSigV4(region: "eu-central-1", accessKey: "AKIDFIXTURE", secretKey: "another-secret")
        #expect(try await client.send(request).status == 403)
    }

    @Test(arguments: ["ftp://127.0.0.1/x", "file:///etc/passwd", "not a url"])
    func onlyHTTPURLsAreFetched(url: String) async throws {
        await #expect {
            try await client.send(HTTPClientRequest(url: url))
        } throws: { error in
            (error as? HTTPClientError)?.code == .invalidRequest
        }
    }

    @Test func headerInjectionIsRefused() async throws {
        await #expect {
            try await client.send(HTTPClientRequest(url: base + "/echo", headers: [("X-A", "1\r\nX-B: 2")]))
        } throws: { error in
            (error as? HTTPClientError)?.code == .invalidRequest
        }
    }

    @Test func manyConcurrentRequests() async throws {
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<40 { group.addTask { [client, base] in try await client.send(HTTPClientRequest(url: base + "/slow/50")).status } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 200, count: 40))
    }
}
