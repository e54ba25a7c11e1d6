import Foundation
import HTTPClient
import LocalServices
import Testing
import TestSupport

/// Email over SMTP to a real server (aiosmtpd), MIME checked by what arrives.
@Suite struct MailTests {
    @Test func aMultipartUTF8EmailWithAnAttachmentArrivesIntact() async throws {
        let sink = try await MailSink()
        defer { sink.stop() }
        var message = MailMessage(from: "callbacks@redial.test", fromName: "Redial Отчёты", to: ["owner@shop.test"],
                                  subject: "Отчёт за неделю: 12 звонков", text: "Привет!\nВсего 12.", html: "<p>Привет!</p>",
                                  messageID: "<effect-123@redial>")
        message.attachments = [.init(filename: "report.csv", contentType: "text/csv; charset=UTF-8", data: Array("day,calls\nmon,3\n".utf8))]
        try await SMTPClient(url: sink.url).send(from: message.from, to: message.to, message: message.rendered())
        let received = try #require(try sink.messages().first)
        #expect(received.contains("Message-ID: <effect-123@redial>"))
        #expect(received.contains("Subject: =?UTF-8?B?"))
        #expect(received.contains("multipart/mixed") && received.contains("multipart/alternative"))
        #expect(received.contains("filename=\"report.csv\""))
        #expect(received.contains(Data("Привет!\nВсего 12.".utf8).base64EncodedString()))
        #expect(received.contains(Data("day,calls\nmon,3\n".utf8).base64EncodedString()))
        let subjectWords = received.split(separator: "\n").drop { !$0.hasPrefix("Subject:") }.prefix { $0.hasPrefix("Subject:") || $0.hasPrefix(" ") }
        let decoded = subjectWords.flatMap { $0.matches(of: /=\?UTF-8\?B\?([^?]+)\?=/).map { String(decoding: Data(base64Encoded: String($0.1))!, as: UTF8.self) } }.joined()
        #expect(decoded == "Отчёт за неделю: 12 звонков")
    }

    @Test func noServerIsATypedError() async throws {
        let port = try LocalHost.freePort()
        await #expect {
            try await SMTPClient(url: "smtp://127.0.0.1:\(port)", timeout: .seconds(5)).send(from: "a@b.c", to: ["d@e.f"], message: Array("x".utf8))
        } throws: { ($0 as? HTTPClientError)?.code == .connectionFailed }
    }

    @Test func badAddressesAreRefusedBeforeConnecting() async throws {
        await #expect {
            try await SMTPClient(url: "smtp://127.0.0.1:1").send(from: "not-an-address", to: ["d@e.f"], message: [])
        } throws: { ($0 as? HTTPClientError)?.code == .invalidRequest }
        await #expect {
            try await SMTPClient(url: "smtp://127.0.0.1:1").send(from: "a@b.c", to: ["x@y.z\r\nRCPT TO:<evil@z>"], message: [])
        } throws: { ($0 as? HTTPClientError)?.code == .invalidRequest }
    }
}
