import RedisClient

extension JobQueue {
    /// Rewrites the payloads of every job of `types` that Redis still holds, in any state (ready,
    /// scheduled, held, dead, kept completed), with `transform`'s answer for its type and payload;
    /// nil leaves a payload as it is. Each write is compare-and-set (`replacePayload.lua`): a job that ran or changed
    /// meanwhile is skipped, never resurrected. Returns how many were rewritten. For re-sealing
    /// personal data after a key rotation; the meaning of a payload must not change.
    public func rewritePayloads(types: Set<String>, _ transform: (_ type: String, _ payload: String) throws -> String?) async throws -> Int {
        var rewritten = 0
        for queue in try await queues() {
            let keys = Keys(queue: queue)
            var cursor = "0"
            repeat {
                let reply = try await redis.send("SCAN", cursor, "MATCH", keys.jobPrefix + "*", "COUNT", 500).array ?? []
                guard reply.count == 2, let next = reply[0].string else { break }
                cursor = next
                let jobKeys = reply[1].array?.compactMap(\.string) ?? []
                guard !jobKeys.isEmpty else { continue }
                let fields = try await redis.pipeline(jobKeys.map { .make("HMGET", $0, "type", "payload") })
                for (key, reply) in zip(jobKeys, fields) {
                    guard let values = try reply.get().array, values.count == 2, let type = values[0].string, types.contains(type),
                          let payload = values[1].string, let replacement = try transform(type, payload), replacement != payload else { continue }
                    let id = String(key.dropFirst(keys.jobPrefix.count))
                    if try await QueueScripts.replacePayload.run(on: redis, keys, .init(job: id), arguments: [payload, replacement]).int == 1 {
                        rewritten += 1
                    }
                }
            } while cursor != "0"
        }
        return rewritten
    }
}
