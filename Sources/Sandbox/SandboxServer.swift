import CryptoPrimitives
import Foundation
import HTTPClient
import HTTPTypes
import Hummingbird
import Logging
import Providers

/// `redial sandbox`: a telephony and SMS provider simulator speaking a JSON-over-HTTP protocol
/// like a real carrier's, so the dial flow is tested over the network. Magic visitor numbers
/// (by last digit) choose what happens; see README.md. Status webhooks are signed with
/// HMAC-SHA256 over "<unix time>.<body>" in `X-Signature: t=<time>,v1=<hex>`.
public struct SandboxServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// Shared with the API, which verifies webhooks with it.
        public var webhookSecret: String
        /// `REDIAL_TIME_SCALE`: multiplies ring and talk times.
        public var timeScale: Double

        public init(host: String = "127.0.0.1", port: Int, webhookSecret: String, timeScale: Double) {
            self.host = host
            self.port = port
            self.webhookSecret = webhookSecret
            self.timeScale = timeScale
        }
    }

    let configuration: Configuration
    let logger: Logger
    let state = SandboxState()

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!

    public func application() -> some ApplicationProtocol {
        let router = Router()
        router.post("/v1/calls") { request, _ in try await originate(request) }
        // The carrier's look-up by idempotency key: how a client that got no clear answer to an
        // originate learns whether the call exists.
        router.get("/v1/calls") { request, _ in
            guard let key = request.uri.queryParameters.get("idempotency_key"), !key.isEmpty else {
                return try Self.json(.badRequest, ["error": "expected ?idempotency_key=…"])
            }
            if await state.faults.lookupFails { return try Self.json(.serviceUnavailable, ["error": "look-up temporarily unavailable"]) }
            return try Self.json(.ok, ["calls": await state.call(key: key).map { [$0] } ?? []])
        }
        router.get("/v1/calls/{id}") { _, context in
            guard let call = await state.calls[context.parameters.get("id") ?? ""] else {
                return try Self.json(.notFound, ["error": "no such call"])
            }
            return try Self.json(.ok, call)
        }
        router.post("/v1/sms") { request, _ in try await sendSMS(request) }
        // Delivery report: a number ending in 2 never receives (its phone is off), others do.
        router.get("/v1/sms/{id}") { _, context in
            guard let message = await state.messages.first(where: { $0.smsID == context.parameters.get("id") }) else {
                return try Self.json(.notFound, ["error": "no such SMS"])
            }
            let delivered = message.to.last != "2"
            return try Self.json(.ok, ["sms_id": message.smsID, "status": delivered ? "delivered" : "undelivered",
                                       "detail": delivered ? "handset acknowledged" : "handset unreachable"])
        }
        router.get("/sandbox/calls") { _, _ in try Self.json(.ok, await state.ringLog()) }
        router.post("/v1/payments") { request, _ in try await pay(request) }
        router.get("/sandbox/payments") { _, _ in try Self.json(.ok, await state.paymentDeliveries) }
        router.get("/sandbox/checkout/{id}") { _, context in await checkoutPage(id: context.parameters.get("id") ?? "") }
        router.get("/sandbox/sms") { _, _ in try Self.json(.ok, await state.messages) }
        router.get("/sandbox/faults") { _, _ in try Self.json(.ok, await state.faults) }
        router.post("/sandbox/faults") { request, _ in
            let body = try await request.body.collect(upTo: 4096)
            guard let faults = try? JSONDecoder().decode(SandboxState.Faults.self, from: Data(body.readableBytesView)),
                  (0...1).contains(faults.errorRate), (0...60_000).contains(faults.latencyMs),
                  (44...(256 << 20)).contains(faults.recordingBytes), (0...1).contains(faults.placeThenFail),
                  (0...60_000).contains(faults.slowAfterPlaceMs), (1...86_400).contains(faults.talkSeconds) else {
                return try Self.json(.badRequest, ["error": """
                    expected {"error_rate": 0-1, "latency_ms": 0-60000, "drop_webhooks": bool, "recording_bytes": 44-268435456, \
                    "place_then_fail": 0-1, "slow_after_place_ms": 0-60000, "lookup_fails": bool, "talk_s": 1-86400, \
                    "calls_fail": bool, "duplicate_payment_events": bool}
                    """])
            }
            await state.setFaults(faults)
            return try Self.json(.ok, faults)
        }
        // A call's recording: a WAV whose bytes follow from the call id, so a copy can be compared.
        router.get("/recordings/{name}") { _, context -> Response in
            let name = context.parameters.get("name") ?? ""
            guard name.hasSuffix(".wav"), let call = await state.calls[String(name.dropLast(4))], call.recordingURL != nil else {
                return try Self.json(.notFound, ["error": "no such recording"])
            }
            let bytes = SandboxRecording.bytes(callID: call.callID, size: await state.faults.recordingBytes)
            return Response(status: .ok, headers: [.contentType: "audio/wav"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        router.get("/healthz") { _, _ in "ok" }
        return Application(router: router, configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                                                serverName: "redial-sandbox"), logger: logger)
    }

    struct OriginateRequest: Decodable {
        let managers: [String]
        let visitor: String
        let callbackURL: String

        enum CodingKeys: String, CodingKey { case managers, visitor, callbackURL = "callback_url" }
    }

    func originate(_ request: Request) async throws -> Response {
        let faults = await state.faults
        if faults.latencyMs > 0 { try await Task.sleep(for: .milliseconds(faults.latencyMs)) }
        let body = try await request.body.collect(upTo: 16 * 1024)
        guard let input = try? JSONDecoder().decode(OriginateRequest.self, from: Data(body.readableBytesView)),
              !input.managers.isEmpty, input.visitor.hasPrefix("+") else {
            return try Self.json(.badRequest, ["error": "expected {\"managers\": [\"+…\"], \"visitor\": \"+…\", \"callback_url\": \"…\"}"])
        }
        guard let key = request.headers[Self.idempotencyKey], !key.isEmpty else {
            return try Self.json(.badRequest, ["error": "the Idempotency-Key header is required"])
        }
        // The same key returns the same call: never a second ring.
        switch await state.claim(key: key) {
        case .existing(let call): return try Self.json(.ok, call)
        case .refused: return try Self.json(.conflict, ["error": "a request with this Idempotency-Key is still being processed"])
        case .mine: break
        }
        let digit = input.visitor.last ?? "0"
        if digit == "3" || Double.random(in: 0..<1) < faults.errorRate {
            await state.release(key: key)
            return try Self.json(.serviceUnavailable, ["error": "provider temporarily unavailable"])
        }
        if digit == "7" {
            await state.release(key: key)
            return try Self.json(.init(code: 404), ["error": "invalid number", "sip_code": "404"])
        }
        if digit == "6" { try? await Task.sleep(for: .seconds(5)) }
        let (call, previous) = await state.newCall(visitor: input.visitor, managers: input.managers, key: key,
                                                   callbackURL: input.callbackURL)
        Task { await play(call, previousRings: previous) }
        if faults.slowAfterPlaceMs > 0 { try? await Task.sleep(for: .milliseconds(faults.slowAfterPlaceMs)) }
        // The call rings; the answer says otherwise (half a gateway timeout, half a cut-off body).
        if Double.random(in: 0..<1) < faults.placeThenFail {
            if Bool.random() { return try Self.json(.gatewayTimeout, ["error": "upstream timed out"]) }
            let whole = try JSONEncoder().encode(call)
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(bytes: whole.prefix(whole.count / 2))))
        }
        return try Self.json(.created, call)
    }

    /// What happens to a call over time, by the visitor's last digit.
    func play(_ call: SandboxState.Call, previousRings: Int) async {
        let scale = configuration.timeScale
        try? await Task.sleep(for: .seconds(1) * scale)
        _ = await state.update(call.callID) { $0.status = "ringing" }
        try? await Task.sleep(for: .seconds(2) * scale)
        let managerAnswers = call.managers.contains { $0.last != "2" }
        let digit = call.visitor.last ?? "0"
        let test = call.visitor == SandboxWire.testNumber
        var outcome: String
        var sip: Int
        var talk = 0
        switch digit {
        case _ where await state.faults.callsFail: (outcome, sip) = ("network_failure", 503)
        case _ where test: (outcome, sip) = ("answered", 200)  // the carrier's test line: answers, talks not
        case _ where !managerAnswers: (outcome, sip) = ("no_answer", 480)
        case "1": (outcome, sip) = ("busy", 486)
        case "2": (outcome, sip) = ("no_answer", 480)
        case "4" where previousRings < 2: (outcome, sip) = ("busy", 486)
        default: (outcome, sip, talk) = ("answered", 200, await state.faults.talkSeconds)
        }
        if !managerAnswers && outcome != "network_failure" { outcome = "manager_unreachable" }
        if talk > 0 {
            _ = await state.update(call.callID) { $0.status = "in_progress" }
            try? await Task.sleep(for: .seconds(talk) * scale)
        }
        guard let finished = await state.update(call.callID, { updated in
            updated.status = "completed"
            updated.outcome = outcome
            updated.sipCode = sip
            updated.durationSeconds = talk
            updated.recordingURL = talk > 0 ? "http://\(configuration.host):\(configuration.port)/recordings/\(call.callID).wav" : nil
        }) else { return }
        let dropped = await state.faults.dropWebhooks
        if digit == "5" || dropped || test { return }  // the provider "forgets" the webhook: polling must find it
        await sendWebhook(finished)
    }

    /// Delivers the final event, retrying a few times like a real provider does.
    func sendWebhook(_ call: SandboxState.Call) async {
        let event = SandboxWire.Event(eventID: "evt-\(call.callID)", call: call.wire)
        guard let body = try? JSONEncoder().encode(event) else { return }
        if await !deliverSigned(Array(body), to: call.callbackURL) {
            logger.warning("webhook for \(call.callID) not delivered to \(call.callbackURL)")
        }
    }

    /// POSTs a signed webhook, five tries with backoff until one is answered 2xx.
    func deliverSigned(_ body: [UInt8], to url: String) async -> Bool {
        for attempt in 0..<5 {
            let time = String(Int(Date().timeIntervalSince1970))
            let signature = SandboxWire.sign(body, time: time, secret: Array(configuration.webhookSecret.utf8))
            let response = try? await HTTPClient().send(HTTPClientRequest(
                method: "POST", url: url,
                headers: [("Content-Type", "application/json"), (SandboxWire.signatureHeader, "t=\(time),v1=\(signature)")],
                body: body, timeout: .seconds(5)))
            if let status = response?.status, (200..<300).contains(status) { return true }
            try? await Task.sleep(for: .milliseconds(200 << attempt))
        }
        return false
    }

    struct SMSRequest: Decodable {
        let to: String
        let text: String
    }

    func sendSMS(_ request: Request) async throws -> Response {
        let faults = await state.faults
        if faults.latencyMs > 0 { try await Task.sleep(for: .milliseconds(faults.latencyMs)) }
        if Double.random(in: 0..<1) < faults.errorRate {
            return try Self.json(.serviceUnavailable, ["error": "provider temporarily unavailable"])
        }
        let body = try await request.body.collect(upTo: 16 * 1024)
        guard let input = try? JSONDecoder().decode(SMSRequest.self, from: Data(body.readableBytesView)),
              input.to.hasPrefix("+"), !input.text.isEmpty, input.text.count <= 1600 else {
            return try Self.json(.badRequest, ["error": "expected {\"to\": \"+…\", \"text\": \"1-1600 characters\"}"])
        }
        let (message, created) = await state.sms(to: input.to, text: input.text, key: request.headers[Self.idempotencyKey])
        return try Self.json(created ? .created : .ok, ["sms_id": message.smsID, "status": "sent"])
    }

    static func json(_ status: HTTPResponse.Status, _ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Milliseconds: the intake benchmark times click to ring from the ring log.
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt).format(date))
        }
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}
