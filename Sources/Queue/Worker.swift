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
        do {
            try await Preflight.run(pool, production: configuration.production, logger: logger)
        } catch {
            await pool.close()
            throw error
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
            }
        } onGracefulShutdown: {
            self.stop()
        }
        await pool.close()
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
