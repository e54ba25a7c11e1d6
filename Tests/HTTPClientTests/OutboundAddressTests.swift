import HTTPClient
import Testing

/// What an outgoing request to an outside URL may reach, and where a URL really points.
@Suite struct OutboundAddressTests {
    @Test(arguments: ["0.0.0.0", "127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
                      "100.64.0.1", "224.0.0.1", "255.255.255.255", "::", "::1", "fc00::1", "fd12:3456::1", "fe80::1", "ff02::1",
                      "::ffff:127.0.0.1", "::ffff:169.254.169.254", "not an address"])
    func internalAddressesAreNotPublic(address: String) {
        #expect(!OutboundAddress.isPublic(address))
    }

    @Test(arguments: ["8.8.8.8", "172.32.0.1", "100.128.0.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"])
    func publicAddressesAre(address: String) {
        #expect(OutboundAddress.isPublic(address))
    }

    @Test func localhostResolvesToLoopback() async throws {
        let addresses = try await OutboundAddress.resolve("localhost")
        #expect(!addresses.isEmpty && addresses.allSatisfy { !OutboundAddress.isPublic($0) })
    }

    @Test func urlPartsReadTheHostAsLibcurlDoes() {
        #expect(URLParts("https://Rec.Carrier.example/x.wav")?.host == "rec.carrier.example")
        #expect(URLParts("https://rec.example/x")?.port == 443)
        #expect(URLParts("http://user:pw@169.254.169.254:8080/latest")?.host == "169.254.169.254")
        #expect(URLParts("http://user:pw@169.254.169.254:8080/latest")?.port == 8080)
        #expect(URLParts("http://[::1]:9000/a")?.host == "::1")
        #expect(URLParts("http://a.example@127.0.0.1/")?.host == "127.0.0.1", "userinfo is not the host")
        #expect(URLParts("ftp://host/file") == nil)
        #expect(URLParts("http://host:99999/") == nil)
        #expect(URLParts("http:///path") == nil)
    }

    @Test func errorTextCarriesNoCredentialOfTheURL() async throws {
        #expect(URLParts.redacted("https://user:hunter2@rec.example:8443/calls/7.wav?token=s3cr3t#x") == "https://rec.example:8443/calls/7.wav")
        #expect(URLParts.redacted("garbage") == "<not a URL>")
        // A real failed transfer: nothing listens on port 9 of loopback.
        await #expect {
            try await HTTPClient().send(HTTPClientRequest(url: "http://api:hunter2@127.0.0.1:9/v1/calls?key=s3cr3t"))
        } throws: { error in
            let text = "\(error)"
            return text.contains("127.0.0.1:9/v1/calls") && !text.contains("hunter2") && !text.contains("s3cr3t")
        }
    }
}
