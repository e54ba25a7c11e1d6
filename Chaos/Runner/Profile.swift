/// How long the load runs, how hard, and which faults fall when.
struct Profile: Sendable {
    let name: String
    let loadSeconds: Int
    let requestsPerSecond: Double
    let workers: Int
    /// Faults by second of the run.
    let schedule: [(at: Int, fault: any Fault)]
    /// Longest wait, after the load, for every accepted callback to end.
    let settleSeconds: Int
    /// Redis under Sentinel (`make services-sentinel`), and the replicas every enqueue waits for.
    var sentinel = false
    /// Redis Cluster (`make services-cluster`): three masters, three replicas.
    var cluster = false
    var waitReplicas = 0
    /// Noop jobs enqueued straight into Redis beside the callbacks, each acknowledged one checked.
    var noopPerSecond = 0.0

    /// About 2 minutes: every kind of fault once or twice. `make test` runs it.
    static let smoke = Profile(
        name: "smoke", loadSeconds: 60, requestsPerSecond: 4, workers: 3,
        schedule: [
            (4, KillWorker()), (8, HostileSandbox(mode: .errorStorm, seconds: 6)), (14, KillRedis()),
            (20, KillWorker()), (25, RestartPostgres()), (31, KillAPI()), (35, TerminateWorker()),
            (39, KillRelay()), (42, HostileSandbox(mode: .droppedWebhooks, seconds: 5)), (47, RedisFull(seconds: 3)),
            (50, KillWorker()), (52, HostileSandbox(mode: .placeThenFail, seconds: 5)), (57, HostileSandbox(mode: .latency, seconds: 3)),
            (17, KillWatchdog()), (27, TrunkOutage(seconds: 8)),
        ].sorted { $0.0 < $1.0 },
        settleSeconds: 90)

    /// About 2 minutes of the release path under faults (`make chaos PROFILE=release`): a beta
    /// release starts, soaks through a killed worker, a killed Redis and a trunk outage, and is
    /// rolled back; a second one soaks through a PostgreSQL restart and a hostile carrier and is
    /// promoted, production's workers replaced one by one while workers are killed around them.
    static let release = Profile(
        name: "release", loadSeconds: 80, requestsPerSecond: 4, workers: 3,
        schedule: [
            (3, ReleaseStep(action: .start, version: "chaos-1")), (8, KillWorker()), (12, KillRedis()), (17, TrunkOutage(seconds: 6)),
            (22, KillWorker()), (26, ReleaseStep(action: .rollBack, version: "chaos-1")),
            (32, ReleaseStep(action: .start, version: "chaos-2")), (36, RestartPostgres()), (42, HostileSandbox(mode: .placeThenFail, seconds: 5)),
            (48, KillWorker()), (52, ReleaseStep(action: .promote, version: "chaos-2")), (62, KillRedis()), (66, KillWorker()),
            (70, TerminateWorker()),
        ],
        settleSeconds: 90)

    /// About 2 minutes of network faults only (root: `make chaos PROFILE=network`): the namespaced
    /// worker partitioned three times and its link slowed once, with kills in between. The last
    /// partition falls the moment the namespaced worker has been restarted, so it starts with
    /// Redis out of reach and must wait for it, not exit.
    static let network = Profile(
        name: "network", loadSeconds: 80, requestsPerSecond: 4, workers: 3,
        schedule: [
            (8, NetworkFault(mode: .partition, seconds: 8)), (24, NetworkFault(mode: .slow, seconds: 12)),
            (38, NetworkFault(mode: .postgresCut, seconds: 8)), (48, NetworkFault(mode: .partition, seconds: 6)), (55, KillWorker(victim: 0)), (56, NetworkFault(mode: .partition, seconds: 5)),
        ],
        settleSeconds: 90)

    /// About 2 minutes under Sentinel (`make chaos PROFILE=sentinel`): the master killed three
    /// times under callbacks and noop jobs, each enqueue acknowledged only once a replica holds it
    /// (`REDIAL_REDIS_WAIT=1`): not one acknowledged enqueue may be lost. `sentinel-async`: the
    /// same without WAIT; what replication lost is counted, and the callbacks' jobs must come back
    /// through the reconciler.
    static func sentinel(wait: Bool) -> Profile {
        Profile(name: wait ? "sentinel" : "sentinel-async", loadSeconds: 60, requestsPerSecond: 4, workers: 3,
                schedule: [(8, FailoverRedis()), (20, KillWorker()), (26, FailoverRedis()), (40, FailoverRedis()), (50, KillWorker())],
                settleSeconds: 90, sentinel: true, waitReplicas: wait ? 1 : 0, noopPerSecond: 20)
    }

    /// About 2 minutes on a Redis Cluster (`make chaos PROFILE=cluster`): the callbacks' and the
    /// noop jobs' slots each resharded to another master and their masters killed, with workers
    /// killed between; every enqueue waits for a replica (`REDIAL_REDIS_WAIT=1`).
    static let cluster = Profile(
        name: "cluster", loadSeconds: 60, requestsPerSecond: 4, workers: 3,
        schedule: [(6, MigrateQueueSlot(queue: "callbacks")), (14, FailoverClusterMaster(queue: "callbacks")), (24, KillWorker()),
                   (28, MigrateQueueSlot(queue: "default")), (36, FailoverClusterMaster(queue: "default")),
                   (46, MigrateQueueSlot(queue: "notifications")), (52, KillWorker())],
        settleSeconds: 90, cluster: true, waitReplicas: 1, noopPerSecond: 20)

    /// Ten minutes: a worker killed every 15 s (40), Redis killed 3 times, PostgreSQL restarted
    /// twice, API and relay killed, the provider hostile in turns; with a network of its own
    /// (root), the namespaced worker partitioned 4 times and its link slowed 3 times.
    static func full(network: Bool) -> Profile {
        var schedule: [(Int, any Fault)] = []
        for second in stride(from: 5, to: 600, by: 15) { schedule.append((second, KillWorker())) }
        for second in [100, 280, 460] { schedule.append((second, KillRedis())) }
        for second in [190, 370] { schedule.append((second, RestartPostgres())) }
        for second in [60, 330, 520] { schedule.append((second, KillAPI())) }
        for second in [140, 410] { schedule.append((second, KillRelay())) }
        for second in [75, 300] { schedule.append((second, TerminateWorker())) }
        for (second, mode) in [(30, HostileSandbox.Mode.errorStorm), (150, .placeThenFail), (230, .droppedWebhooks), (430, .latency),
                               (470, .placeThenFail), (560, .errorStorm)] {
            schedule.append((second, HostileSandbox(mode: mode, seconds: 15)))
        }
        for second in [250, 535] { schedule.append((second, RedisFull(seconds: 8))) }
        for second in [110, 395] { schedule.append((second, KillWatchdog())) }
        for second in [175, 485] { schedule.append((second, TrunkOutage(seconds: 12))) }
        if network {
            for second in [48, 212, 392, 577] { schedule.append((second, NetworkFault(mode: .partition, seconds: 8))) }
            for second in [158, 338, 497] { schedule.append((second, NetworkFault(mode: .slow, seconds: 12))) }
            for second in [120, 440] { schedule.append((second, NetworkFault(mode: .postgresCut, seconds: 10))) }
        }
        return Profile(name: "full", loadSeconds: 600, requestsPerSecond: 6, workers: 4,
                       schedule: schedule.sorted { $0.0 < $1.0 }, settleSeconds: 240)
    }
}
