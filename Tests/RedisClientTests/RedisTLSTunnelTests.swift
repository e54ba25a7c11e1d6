import Foundation
import LocalServices
import RedisClient
import Testing
import TestSupport

/// hiredis 0.14 speaks no TLS, so Redis is reached through a local stunnel (docs/transport.md):
/// this runs that recipe. A Redis serving TLS only, stunnel verifying its certificate against
/// the CA and the name `localhost`: commands go through; with another CA, or straight to the TLS
/// port, nothing does.
@Suite struct RedisTLSTunnelTests {
    @Test func redisOverTLSThroughStunnelVerifiesTheServer() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/stunnel4") else {
            throw SetupError("stunnel is not installed: run `make deps` (stunnel4)")
        }
        let tlsPort = try LocalHost.freePort()
        let directory = LocalHost.repositoryRoot.appendingPathComponent(".run/test-redis-tls/\(tlsPort)")
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificates = try await TestCertificates(in: directory, names: "DNS:localhost")
        let redis = try ChildProcess("/usr/bin/redis-server", [
            "--port", "0", "--tls-port", String(tlsPort), "--bind", "127.0.0.1", "--dir", directory.path, "--save", "",
            "--tls-cert-file", certificates.certificateFile, "--tls-key-file", certificates.keyFile,
            "--tls-ca-cert-file", certificates.caFile, "--tls-auth-clients", "no",
        ], logName: "redis-tls-\(tlsPort)")
        defer { redis.stop() }
        #expect(try await eventually(timeout: .seconds(10)) { redis.log.contains("Ready to accept connections") }, "\(redis.log)")

        /// The recipe's client side: accept plain on loopback, speak TLS to Redis, verify it.
        func tunnel(trusting ca: String) throws -> (process: ChildProcess, port: Int) {
            let port = try LocalHost.freePort()
            let configuration = directory.appendingPathComponent("stunnel-\(port).conf").path
            try """
                foreground = yes
                pid =
                [redis]
                client = yes
                accept = 127.0.0.1:\(port)
                connect = 127.0.0.1:\(tlsPort)
                CAfile = \(ca)
                verifyChain = yes
                checkHost = localhost
                """.write(toFile: configuration, atomically: true, encoding: .utf8)
            return (try ChildProcess("/usr/bin/stunnel4", [configuration], logName: "stunnel-\(port)"), port)
        }
        func ping(_ port: Int) async -> String {
            let connection = RedisConnection(configuration: RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: port),
                                                                               connectTimeout: .seconds(2)))
            defer { Task { await connection.close() } }
            do {
                return "\(try await connection.send("PING"))"
            } catch {
                return "\(error)"
            }
        }

        let trusted = try tunnel(trusting: certificates.caFile)
        defer { trusted.process.stop() }
        #expect(try await eventually(timeout: .seconds(10)) { await ping(trusted.port).contains("PONG") }, "\(trusted.process.log)")
        let pool = RedisPool(configuration: RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: trusted.port)))
        try await pool.send("SET", "tunnel", "through")
        #expect(try await pool.send("GET", "tunnel").string == "through")
        await pool.close()

        let stranger = try tunnel(trusting: certificates.strangerCAFile)
        defer { stranger.process.stop() }
        #expect(try await eventually(timeout: .seconds(10)) { stranger.process.log.contains("Configuration successful") })
        let refused = await ping(stranger.port)
        #expect(!refused.contains("PONG"), "\(refused)")
        #expect(try await eventually(timeout: .seconds(10)) { stranger.process.log.contains("certificate verify failed") }, "\(stranger.process.log)")
        let plain = await ping(tlsPort)
        #expect(!plain.contains("PONG"), "a plain client gets nothing from the TLS port: \(plain)")
    }
}
