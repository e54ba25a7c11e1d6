import RedisClient

extension JobQueue {
    /// A queue's jobs as its own lists hold them, at most `perState` of each: held by live or
    /// dead workers, ready, scheduled or waiting to retry, dead (newest first) and completed
    /// (newest first, while their records are kept). What the console searches by type or by the
    /// callback a payload names; a job is found by id in any state with `find(id:)`.
    public func recent(queue: String, perState: Int = 500) async throws -> [JobRecord] {
        let keys = Keys(queue: queue)
        let lists = try await redis.pipeline([
            .make("LRANGE", keys.ready, -perState, -1), .make("ZRANGE", keys.delayed, 0, perState - 1),
            .make("ZRANGE", keys.dead, "+inf", "-inf", "BYSCORE", "REV", "LIMIT", 0, perState),
            .make("LRANGE", keys.completed, 0, perState - 1), .make("ZRANGE", keys.workers, 0, -1),
        ])
        let workers = try lists[4].get().array?.compactMap(\.string) ?? []
        let held = workers.isEmpty ? [] : try await redis.pipeline(workers.map { .make("HKEYS", keys.held($0)) })
        var ids: [String] = []
        for reply in try held.map({ try $0.get() }) + lists[0...3].map({ try $0.get() }) {
            ids += reply.array?.compactMap(\.string) ?? []
        }
        // A completed entry is "<finished at ms>:<id>".
        ids = ids.map { entry in entry.firstIndex(of: ":").map { String(entry[entry.index(after: $0)...]) } ?? entry }
        var seen = Set<String>()
        ids = ids.filter { seen.insert($0).inserted }
        guard !ids.isEmpty else { return [] }
        let hashes = try await redis.pipeline(ids.map { .make("HGETALL", keys.job($0)) })
        return try zip(ids, hashes).compactMap { id, hash in JobRecord(queue: queue, id: id, hash: try hash.get()) }
    }
}
