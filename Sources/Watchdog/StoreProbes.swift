import PostgresClient
import RedisClient
import Synchronization

/// Redis answers a PING.
struct RedisProbe: Probe {
    let redis: RedisPool

    func check(timeout: Duration) async -> ProbeResult {
        do {
            let reply = try await withDeadline(timeout) { try await redis.send("PING") }
            return reply == .status("PONG") ? .success("PONG") : .failure("PING answered \(reply)")
        } catch {
            return .failure("\(error)")
        }
    }
}

/// PostgreSQL answers a query.
struct PostgresProbe: Probe {
    let database: PostgresPool

    func check(timeout: Duration) async -> ProbeResult {
        do {
            _ = try await withDeadline(timeout) { try await database.query("SELECT 1") }
            return .success("SELECT 1")
        } catch {
            return .failure("\(error)")
        }
    }
}

/// The probe's own bound on a call whose client has a longer one of its own (or none): the
/// answer, or an error once `timeout` has passed, without waiting for a call that hangs (it is
/// left to finish or fail on its own).
func withDeadline<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let answer = FirstAnswer<T>()
    return try await withCheckedThrowingContinuation { continuation in
        answer.wait(with: continuation)
        let work = Task {
            do { answer.give(.success(try await body())) } catch { answer.give(.failure(error)) }
        }
        Task {
            try? await Task.sleep(for: timeout)
            work.cancel()
            answer.give(.failure(WatchdogError("no answer within \(timeout)")))
        }
    }
}

/// A continuation resumed by whichever answer comes first; later ones are dropped.
final class FirstAnswer<T: Sendable>: Sendable {
    private let pending = Mutex<CheckedContinuation<T, any Error>?>(nil)

    func wait(with continuation: CheckedContinuation<T, any Error>) {
        pending.withLock { $0 = continuation }
    }

    func give(_ result: Result<T, any Error>) {
        pending.withLock { pending in
            pending?.resume(with: result)
            pending = nil
        }
    }
}
