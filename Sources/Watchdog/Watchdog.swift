import Foundation
import Logging
import Metrics
import PostgresClient
import Providers
import ReleaseGate
import Queue
import RedisClient
import ServiceLifecycle
import Settings
import Synchronization

/// `redial watchdog`: probes telephony and software and exposes every result as metrics for
/// Prometheus to judge and Alertmanager to route. Any number may run; the one holding the Redis
/// lease probes, the others wait to take over within the lease's time to live. While a
/// telephony probe is down, dialing is paused (`DialGuard`).
public final class Watchdog: Service, Sendable {
    /// A probe of one target with its declared timing.
    struct Target: Sendable {
        let spec: ProbeSpec
        let name: String
        let probe: any Probe
    }

    /// The Redis scripts the watchdog runs, for the script-set version.
    public static let scripts: [LuaScript] = [Lease.script]

    let targets: [Target]
    let lease: Lease
    let guardian: DialGuard
    let logger: Logger
    private let active = Gauge(label: "redial_watchdog_active")
    private let holdsLease = Atomic(false)

    /// Whether this watchdog holds the lease and speaks for the cluster. A standby's probe
    /// figures are frozen at its last active look: its `/metrics` leaves them out
    /// (`MetricsEndpoint`), or a series it last saw down would page on for ever.
    public var isActive: Bool { holdsLease.load(ordering: .relaxed) }

    /// - Parameters:
    ///   - dialQueue: the queue of the `callback.dial` jobs, paused while the carrier is down.
    ///   - telephony: the carrier the synthetic call goes through (to `settings.telephonyTestNumber`).
    public init(settings: RedialSettings, redis: RedisPool, database: PostgresPool, dialQueue: String,
                telephony: any TelephonyProvider, logger: Logger) throws {
        let specs = try ProbeSpec.shipped().mapValues { $0.scaled(settings.timeScale) }
        // Every probe and the fields it requires are present: checked by `shipped()`.
        func spec(_ name: String) -> ProbeSpec { specs[name]! }
        let jobs = JobQueue(redis: redis, timeScale: settings.timeScale)
        var targets = settings.sipTrunks.map { trunk in
            Target(spec: spec("sip_trunk"), name: trunk.name, probe: SIPOptionsProbe(trunk: trunk, accept: spec("sip_trunk").accept))
        }
        targets += [
            Target(spec: spec("provider_api"), name: "telephony", probe: HTTPProbe(url: settings.telephonyURL + "/healthz")),
            Target(spec: spec("answer_ratio"), name: "telephony",
                   probe: AnswerRatioProbe(database: database, window: spec("answer_ratio").window!, minimumAttempts: spec("answer_ratio").minimumAttempts!)),
            Target(spec: spec("api_ready"), name: "api", probe: HTTPProbe(url: "http://\(settings.httpHost):\(settings.httpPort)/readyz")),
            Target(spec: spec("redis"), name: "redis", probe: RedisProbe(redis: redis)),
            Target(spec: spec("postgres"), name: "postgres", probe: PostgresProbe(database: database)),
            Target(spec: spec("queues"), name: "queues", probe: QueuesProbe(jobs: jobs, expectedWorkers: settings.expectedWorkers)),
            Target(spec: spec("callbacks"), name: "callbacks",
                   probe: CallbacksProbe(database: database, maxAge: spec("callbacks").maxAge!)),
            Target(spec: spec("reconciler"), name: "relay", probe: ReconcilerProbe(database: database, staleAfter: spec("reconciler").maxAge!)),
            Target(spec: spec("release_gate"), name: "beta",
                   probe: ReleaseGateProbe(gate: ReleaseGate(database: database, jobs: jobs), alertmanager: Alertmanager(baseURL: settings.alertmanagerURL))),
        ]
        if let testNumber = settings.telephonyTestNumber {
            targets.append(Target(spec: spec("synthetic_call"), name: "telephony",
                                  probe: SyntheticCallProbe(telephony: telephony, testNumber: testNumber, pollEvery: .milliseconds(250) * min(1, settings.timeScale))))
        } else {
            logger.notice("no REDIAL_TELEPHONY_TEST_NUMBER: the watchdog places no synthetic test call")
        }
        self.targets = targets
        lease = Lease(redis: redis, holder: WorkerConfiguration.makeID(), ttl: .seconds(6) * settings.timeScale)
        guardian = DialGuard(jobs: jobs, queue: dialQueue, logger: logger)
        self.logger = logger
    }

    /// The probes this watchdog runs, by name (`sip_trunk/<trunk>`, `redis/redis`, …).
    public var probeNames: [String] { targets.map { "\($0.spec.name)/\($0.name)" } }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.loop() }
        try? await lease.release()
    }

    private func loop() async {
        active.record(0)
        while !Task.isCancelled {
            let holding = (try? await lease.hold()) ?? false
            guard holding else {
                try? await Task.sleep(for: lease.ttl / 3)
                continue
            }
            logger.notice("watchdog active: probing \(probeNames.joined(separator: ", "))")
            active.record(1)
            holdsLease.store(true, ordering: .relaxed)
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.keepLease() }
                for target in targets { group.addTask { await self.probe(target) } }
                await group.next()  // the lease was lost (or we are stopping): stop probing
                group.cancelAll()
            }
            holdsLease.store(false, ordering: .relaxed)
            active.record(0)
            if !Task.isCancelled { logger.warning("watchdog lease lost: standing by") }
        }
    }

    /// Renews the lease every third of its time to live; returns when another holder has it.
    /// While Redis cannot be asked, the active watchdog keeps probing: going quiet exactly when
    /// Redis is out would be the wrong failure. If a standby that still reaches Redis takes the
    /// lease meanwhile, both probe until this one hears so (duplicate probes cost nothing; the
    /// dial guard's pause needs Redis anyway).
    private func keepLease() async {
        var unreachable = false
        while !Task.isCancelled {
            try? await Task.sleep(for: lease.ttl / 3)
            do {
                guard try await lease.hold() else { return }
                if unreachable { logger.notice("watchdog lease renewed: Redis answers again") }
                unreachable = false
            } catch {
                if !unreachable { logger.warning("watchdog lease cannot be renewed (\(error)): probing on") }
                unreachable = true
            }
        }
    }

    private func probe(_ target: Target) async {
        let metrics = ProbeMetrics(probe: target.spec.name, target: target.name)
        var state = ProbeState(downAfter: target.spec.downAfter, upAfter: target.spec.upAfter)
        var looks = 0
        while !Task.isCancelled {
            let started = ContinuousClock.now
            let result = await target.probe.check(timeout: target.spec.timeout)
            let took = ContinuousClock.now - started
            if Task.isCancelled { return }
            looks += 1
            if state.record(result.succeeded) {
                let line = "probe \(target.spec.name)/\(target.name) is \(state.isUp ? "up" : "down"): \(result.detail)"
                if state.isUp { logger.notice("\(line)") } else { logger.error("\(line)") }
            }
            metrics.record(result, took: took, isUp: state.isUp)
            if target.spec.telephony {
                await guardian.update("\(target.spec.name)/\(target.name)", up: state.isUp,
                                      sure: looks >= max(target.spec.downAfter, target.spec.upAfter), detail: result.detail)
            }
            try? await Task.sleep(for: max(.zero, target.spec.interval - took))
        }
    }
}
