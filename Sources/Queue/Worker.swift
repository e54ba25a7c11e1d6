import Logging
import RedisClient
import ServiceLifecycle
import Synchronization

/// A worker process's engine: runs every configured queue until a graceful shutdown (SIGTERM
/// through swift-service-lifecycle, or `stop()`), then drains: stop fetching, let in-flight jobs
/// finish within `shutdownGrace`, hand back the rest, leave the registry.
public final class Worker: Service, Sendable {
    public let configuration: WorkerConfiguration
    private let redisConfiguration: RedisConfiguration
    private let definitions: [String: JobDefinition]
    private let logger: Logger
    private let processors = Mutex<[QueueProcessor]>([])
    private let stopRequested = Mutex(false)

    public init(configuration: WorkerConfiguration, redis: RedisConfiguration, definitions: [JobDefinition], logger: Logger) {
        self.configuration = configuration
        redisConfiguration = redis
        self.definitions = Dictionary(definitions.map { ($0.type, $0) }, uniquingKeysWith: { first, _ in first })
        var logger = logger
        logger[metadataKey: "worker.id"] = "\(configuration.id)"
        self.logger = logger
    }

    public func run() async throws {
        try configuration.validate()
        var poolConfiguration = redisConfiguration
        poolConfiguration.poolSize = max(4, configuration.concurrency.count * 3)
        let pool = RedisPool(configuration: poolConfiguration)
        let ready: Bool
        do {
            ready = try await preflight(pool)
        } catch {
            await pool.close()
            throw error
        }
        guard ready else {  // stopped while waiting for Redis
            await pool.close()
            return
        }
        let processors = configuration.concurrency.keys.sorted().map { queue in
            QueueProcessor(queue: queue, configuration: configuration, definitions: definitions, redis: pool,
                           redisConfiguration: redisConfiguration, logger: logger)
        }
        let stopNow = stopRequested.withLock { stop in
            self.processors.withLock { $0 = processors }
            return stop
        }
        if stopNow { processors.forEach { $0.stop() } }
        logger.info("worker started", metadata: [
            "queues": "\(configuration.concurrency.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: ","))",
            "heartbeat.ttl": "\(configuration.effectiveHeartbeatTTL)",
        ])
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for processor in processors { group.addTask { await processor.run() } }
                let failovers = pool.sentinels.map { sentinels in Task { await self.preflightAfterFailovers(pool, sentinels) } }
                await group.waitForAll()
                failovers?.cancel()
            }
        } onGracefulShutdown: {
            self.stop()
        }
        await pool.close()
    }

    /// Runs the preflight, waiting while Redis cannot be reached or is not ready: a worker
    /// started before its Redis, during a Redis restart (or its replay of the AOF) or a network
    /// break must come up when Redis does, as a running worker rides out the same outage.
    /// Problems with Redis itself (unsafe settings in production, another release's scripts)
    /// still stop it. false: stopped while waiting.
    private func preflight(_ pool: RedisPool) async throws -> Bool {
        // A graceful shutdown cancels the wait (and ends a pause early).
        try await cancelWhenGracefulShutdown { [self] in
            var pause = Pause()
            var lastProblem: String?
            while true {
                do {
                    try await Preflight.run(pool, production: configuration.production, logger: logger)
                    if lastProblem != nil { logger.info("Redis is reachable; starting") }
                    return true
                } catch let error as RedisError where error.isTemporary {
                    if Task.isCancelled || stopRequested.withLock({ $0 }) { return false }
                    // Logged when it starts or changes, not on every retry.
                    if error.message != lastProblem { logger.warning("waiting for Redis: \(error)") }
                    lastProblem = error.message
                    await pause.wait()
                }
            }
        }
    }

    /// After the master moves (a Sentinel failover), the checks again, on the new master: it
    /// must keep the same promises. In production a failing one stops this worker, as at start.
    private func preflightAfterFailovers(_ pool: RedisPool, _ sentinels: SentinelMaster) async {
        var checked = sentinels.master
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            guard let master = sentinels.master, master != checked else { continue }
            do {
                let problems = try await Preflight.findings(pool)
                checked = master
                logger.info("Redis master is now \(master): preflight \(problems.isEmpty ? "passed" : "found problems")")
                for problem in problems { logger.error("preflight after the failover to \(master): \(problem)") }
                if configuration.production, !problems.isEmpty {
                    logger.critical("refusing to run in production on \(master); stopping")
                    stop()
                }
            } catch {
                logger.warning("preflight after the failover to \(master): \(error); will retry")
            }
        }
    }

    /// Begins a graceful shutdown (what SIGTERM does).
    public func stop() {
        let processors = stopRequested.withLock { stop in
            stop = true
            return self.processors.withLock { $0 }
        }
        if !processors.isEmpty { logger.info("stopping: no new jobs; in-flight jobs get \(configuration.shutdownGrace)") }
        processors.forEach { $0.stop() }
    }
}
