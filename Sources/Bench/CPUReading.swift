import Foundation

/// CPU counters read at one instant of a latency run or a drain: Redis's main thread, which every command
/// passes through, and the whole machine. Two readings give how busy each was in between, the
/// figure that says whether the tail is queueing for a busy Redis or something else.
struct CPUReading {
    let at: DispatchTime
    /// User and system seconds of Redis's main thread (`INFO cpu`), since it started.
    let redisMainThreadSeconds: Double
    let machine: MachineTicks

    /// What was used from `before` to this reading, `jobs` jobs having gone through meanwhile.
    func since(_ before: CPUReading, jobs: Int) -> CPUUse {
        let seconds = Double(at.uptimeNanoseconds - before.at.uptimeNanoseconds) / 1e9
        let redis = redisMainThreadSeconds - before.redisMainThreadSeconds
        let ticks = machine.total - before.machine.total
        return CPUUse(
            redisMainThreadBusyPercent: seconds > 0 ? redis / seconds * 100 : 0,
            redisMicrosPerJob: jobs > 0 ? redis / Double(jobs) * 1e6 : 0,
            machineBusyPercent: ticks > 0 ? Double(machine.busy - before.machine.busy) / Double(ticks) * 100 : 0)
    }
}

/// How busy Redis and the machine were between two readings.
struct CPUUse {
    /// Share of the wall time Redis's main thread was on a core.
    let redisMainThreadBusyPercent: Double
    /// Redis main-thread CPU per job: its enqueue, claim and acknowledgement together.
    let redisMicrosPerJob: Double
    /// Share of all cores' time not idle (every process, the kernel's too).
    let machineBusyPercent: Double

    /// For a log line: "Redis's main thread 64 % busy, 17.5 µs per job; all cores 62 % busy".
    var summary: String {
        "Redis's main thread \(Sample.format(redisMainThreadBusyPercent)) % busy, \(Sample.format(redisMicrosPerJob)) µs per job; "
            + "all cores \(Sample.format(machineBusyPercent)) % busy"
    }
}

/// The first line of `/proc/stat`: clock ticks of all cores since boot, and those not idle.
struct MachineTicks {
    let busy: Int
    let total: Int

    static func now() throws -> MachineTicks {
        let stat = try String(contentsOfFile: "/proc/stat", encoding: .utf8)
        // cpu user nice system idle iowait irq softirq steal guest guest_nice
        guard let line = stat.split(separator: "\n").first, line.hasPrefix("cpu "),
              case let ticks = line.split(separator: " ").dropFirst().compactMap({ Int($0) }), ticks.count >= 8 else {
            throw BenchError("/proc/stat does not start with a cpu line of 8 or more counters")
        }
        let total = ticks.prefix(8).reduce(0, +)
        return MachineTicks(busy: total - ticks[3] - ticks[4], total: total)
    }
}
