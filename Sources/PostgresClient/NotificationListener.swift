/// A connection of its own LISTENing on one channel, kept listening until its task is cancelled:
/// a lost connection is opened and LISTENed on again, backing off up to 5 s. Notifications sent
/// while it was not listening are lost, so every change of state is reported and the caller
/// falls back meanwhile (a poll, no cache).
public struct NotificationListener: Sendable {
    public enum Event: Sendable {
        /// Listening (again, after `failures` failed tries; 0 the first time).
        case listening(afterFailures: Int)
        /// Payloads of the notifications that came together.
        case notified([String])
        /// Not listening: the connection or the LISTEN failed, `failures` times in a row.
        case lost(PostgresError, failures: Int)
    }

    public let configuration: PostgresConfiguration
    public let channel: String

    public init(configuration: PostgresConfiguration, channel: String) {
        self.configuration = configuration
        self.channel = channel
    }

    public func run(_ handle: @Sendable (Event) async -> Void) async {
        let connection = PostgresConnection(configuration: configuration)
        var listening = false
        var failures = 0
        while !Task.isCancelled {
            do throws(PostgresError) {
                if !listening {
                    try await connection.listen(channel)
                    listening = true
                    await handle(.listening(afterFailures: failures))
                    failures = 0
                }
                // A bounded wait, so a cancellation is never held longer than this.
                let payloads = try await connection.notifications(waiting: .milliseconds(500))
                if !payloads.isEmpty { await handle(.notified(payloads)) }
            } catch {
                listening = false
                failures += 1
                await handle(.lost(error, failures: failures))
                try? await Task.sleep(for: min(.milliseconds(250) * (1 << min(failures, 4)), .seconds(5)))
            }
        }
        await connection.close()
    }
}
