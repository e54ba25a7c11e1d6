import Foundation
import HTTPClient
import Testing
import TestSupport

/// Against a real HTTP server (Fixtures/http_fixture.py) started per suite.
@Suite struct HTTPClientTests {
    let server: ChildProcess
    let base: String
    let client = HTTPClient()

    init() async throws {
        let port = try TestServices.freePort()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/http_fixture.py")
        server = try ChildProcess("/usr/bin/env", ["python3", script.path, String(port)], logName: "http-fixture-\(port)")
        base = "http://127.0.0.1:\(port)"
        let client = self.client
        let url = base + "/status/204"
        guard try await eventually(timeout: .seconds(10), { (try? await client.send(HTTPClientRequest(url: url)))?.status == 204 }) else {
            throw TestSetupError("HTTP fixture did not start: \(server.log)")
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
        let port = try TestServices.freePort()
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
