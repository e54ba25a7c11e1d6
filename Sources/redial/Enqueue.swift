import ArgumentParser
import Jobs
import Queue
import RedisClient
import Settings

struct Enqueue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Enqueue jobs of a catalog type; prints each new job's id.")

    @Option(help: "Job type (see Jobs/README.md).")
    var type: String

    @Option(help: "JSON payload.")
    var payload = "{}"

    @Option(help: "How many identical jobs.")
    var count = 1

    @Option(help: "Seconds from now before the job may run (× REDIAL_TIME_SCALE).")
    var delay: Double = 0

    @Option(help: "Queue (default: the type's queue from its policy).")
    var queue: String?

    @Option(help: "Dedup key: inside the type's dedup window, a second enqueue returns the first job's id.")
    var dedupKey: String?

    func validate() throws {
        guard (1...10_000_000).contains(count) else { throw ValidationError("--count: expected 1-10000000, got \(count)") }
        guard delay >= 0, delay.isFinite else { throw ValidationError("--delay: expected seconds ≥ 0, got \(delay)") }
    }

    func run() async throws {
        let settings = try Environment.settings()
        let definitions = Environment.catalog()
        guard let definition = definitions.first(where: { $0.type == type }) else {
            Environment.fail("unknown job type '\(type)'; known: \(definitions.map(\.type).joined(separator: ", "))", code: 64)
        }
        var policy = definition.policy
        if let queue { policy.queue = queue }
        let pool = RedisPool(configuration: Environment.redisConfiguration(settings, poolSize: 1))
        let jobs = JobQueue(redis: pool, timeScale: settings.timeScale)
        let request = JobQueue.Request(type: type, payload: payload, policy: policy,
                                       delay: .milliseconds(Int64(delay * 1000)), dedupKey: dedupKey)
        var remaining = count
        var output = ""
        do {
            while remaining > 0 {
                let batch = min(remaining, 1000)
                for receipt in try await jobs.enqueue(batch: Array(repeating: request, count: batch)) {
                    output += receipt.id + (receipt.created ? "" : " (duplicate: already enqueued)") + "\n"
                }
                remaining -= batch
                if output.utf8.count > 1 << 16 {
                    print(output, terminator: "")
                    output = ""
                }
            }
        } catch let error as QueueError {
            await pool.close()
            Environment.fail(error.message, code: 65)
        } catch {
            await pool.close()
            Environment.fail("\(error)")
        }
        print(output, terminator: "")
        await pool.close()
    }
}
