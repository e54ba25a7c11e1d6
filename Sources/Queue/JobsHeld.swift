import RedisClient

extension RedisPool {
    /// How many jobs `workers` of one queue hold together: those claimed (their held hashes) and
    /// those moved out of ready by BLMOVE but not claimed yet (their landing lists). One pipeline.
    public func jobsHeld(by workers: [String], in keys: Keys) async throws -> Int {
        if workers.isEmpty { return 0 }
        let lengths = try await pipeline(workers.flatMap { [.make("HLEN", keys.held($0)), .make("LLEN", keys.landing($0))] })
        return try lengths.reduce(0) { try $0 + ($1.get().int ?? 0) }
    }
}
