import Foundation
import LocalServices
import RedisClient

/// Fault: Redis is full: `maxmemory` set below what it holds now, so under `noeviction` every write
/// that needs memory is refused (OOM) for a while, then the limit is lifted.
/// Invariant: nothing accepted is lost and nothing half-done is left: intake still answers 202
/// (the callback and its outbox row are in PostgreSQL), enqueues wait in the outbox, acks and
/// moves are retried; no job is evicted.
struct RedisFull: Fault {
    let seconds: Int
    var name: String { "Redis full \(seconds) s" }
    var explains: [String] { ["ServiceDown", "QueueStalled", "OutboxBacklog", "CallbackSLA", "ReconcilerStale", "WorkersMissing"] }

    func inject(_ cluster: ChaosCluster) async throws {
        let info = try await cluster.redis("INFO", "memory").string ?? ""
        guard let used = info.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("used_memory:") })
            .flatMap({ Int($0.dropFirst("used_memory:".count)) }) else { throw SetupError("no used_memory in INFO memory") }
        let before = try await cluster.redis("CONFIG", "GET", "maxmemory").array?.last?.string ?? "0"
        // Half of what it holds: at exactly its size, memory freed a moment later (a completed
        // record trimmed) let writes through again, and the fault would not hold.
        _ = try await cluster.redis("CONFIG", "SET", "maxmemory", String(max(1, used / 2)))
        // Proof the fault holds: a write is refused.
        do {
            _ = try await cluster.redis("SET", "redial:chaos:probe", String(repeating: "x", count: 4096))
            throw SetupError("Redis accepted a write with maxmemory at its used memory")
        } catch let error as SetupError {
            _ = try? await cluster.redis("CONFIG", "SET", "maxmemory", before)
            throw error
        } catch {
            // OOM: full, as intended.
        }
        try await Task.sleep(for: .seconds(seconds))
        _ = try await cluster.redis("CONFIG", "SET", "maxmemory", before)
    }
}
