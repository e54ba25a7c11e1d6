import Foundation
/// The human summary `make bench` prints.
enum Table {
    static func render(_ results: Results) -> String {
        var lines: [String] = []
        // Padded, never cut: a figure wider than its column pushes the next one right.
        func pad(_ text: String, _ width: Int) -> String {
            text.count >= width ? text + " " : text.padding(toLength: width, withPad: " ", startingAt: 0)
        }
        func row(_ label: String, _ values: [String]) {
            lines.append(pad(label, 46) + values.map { pad($0, 30) }.joined())
        }
        let everysec = results.modes["everysec"]!
        let always = results.modes["always"]!
        row("figure (median, min–max)", ["appendfsync everysec", "appendfsync always"])
        row("redis LPUSH -c 50 -P 16 (ops/s)", [everysec.redisLPushP16.text, always.redisLPushP16.text])
        row("redis LPUSH -c 50 -P 1 (ops/s)", [Sample.format(everysec.redisLPushP1), Sample.format(always.redisLPushP1)])
        row("redis SET round trip p50 (ms)", [Sample.format(everysec.redisSetRoundTripMsP50), Sample.format(always.redisSetRoundTripMsP50)])
        row("enqueue, one client, single (jobs/s)", [everysec.enqueueSingle.text, always.enqueueSingle.text])
        row("enqueue, one client, batched (jobs/s)", [everysec.enqueueBatched.text, always.enqueueBatched.text])
        for processes in everysec.drain.keys.sorted() {
            let e = everysec.drain[processes]!
            let a = always.drain[processes]!
            row("drain, \(processes) worker process(es) (jobs/s)", ["\(e.jobsPerSecond.text) c=\(e.concurrency)", "\(a.jobsPerSecond.text) c=\(a.concurrency)"])
            row("  Redis busy (%), its CPU per job (µs)", [redisUse(e.redisMainThreadBusyPercent, e.redisMicrosPerJob),
                                                         redisUse(a.redisMainThreadBusyPercent, a.redisMicrosPerJob)])
        }
        row("worker RSS, 1 process (MiB)", [everysec.drain["1"]!.workerRSSMiB.text, always.drain["1"]!.workerRSSMiB.text])
        for (share, everysecLoad, alwaysLoad) in [(50, everysec.latencyHalfLoad, always.latencyHalfLoad),
                                                   (25, everysec.latencyQuarterLoad, always.latencyQuarterLoad)] {
            row("latency at \(share) % of 1-process drain (jobs/s)", [Sample.format(everysecLoad.jobsPerSecond), Sample.format(alwaysLoad.jobsPerSecond)])
            row("  p50 (ms)", [everysecLoad.latency.p50.text, alwaysLoad.latency.p50.text])
            row("  p99 (ms)", [everysecLoad.latency.p99.text, alwaysLoad.latency.p99.text])
            row("  p99.9 (ms)", [everysecLoad.latency.p999.text, alwaysLoad.latency.p999.text])
            row("  from the schedule: p50 (ms)", [everysecLoad.latencyFromSchedule.p50.text, alwaysLoad.latencyFromSchedule.p50.text])
            row("  from the schedule: p99 (ms)", [everysecLoad.latencyFromSchedule.p99.text, alwaysLoad.latencyFromSchedule.p99.text])
            row("  from the schedule: p99.9 (ms)", [everysecLoad.latencyFromSchedule.p999.text, alwaysLoad.latencyFromSchedule.p999.text])
            row("  meanwhile, 1 ms sleep woke late: p99 (ms)", [everysecLoad.hiccups.p99.text, alwaysLoad.hiccups.p99.text])
            row("  meanwhile, 1 ms sleep woke late: max (ms)", [everysecLoad.hiccups.max.text, alwaysLoad.hiccups.max.text])
            row("  meanwhile, Redis's longest event (ms)", [stalls(everysecLoad), stalls(alwaysLoad)])
            row("    the longest of them", [worstStall(everysecLoad), worstStall(alwaysLoad)])
            row("  meanwhile, Redis main thread busy (%)", [everysecLoad.redisMainThreadBusyPercent.text, alwaysLoad.redisMainThreadBusyPercent.text])
            row("    its CPU per job (µs)", [everysecLoad.redisMicrosPerJob.text, alwaysLoad.redisMicrosPerJob.text])
            row("  meanwhile, all cores busy (%)", [everysecLoad.machineBusyPercent.text, alwaysLoad.machineBusyPercent.text])
            row("  meanwhile, AOF rewrites per run", [everysecLoad.aofRewrites.map(String.init).joined(separator: " / "),
                                                     alwaysLoad.aofRewrites.map(String.init).joined(separator: " / ")])
            if share == 50 {
                let e = everysec.latencyFloorHalfLoad, a = always.latencyFloorHalfLoad
                row("  a bare Redis list at this load: p50 (ms)", [e.latency.p50.text, a.latency.p50.text])
                row("    p99 (ms)", [e.latency.p99.text, a.latency.p99.text])
                row("    p99.9 (ms)", [e.latency.p999.text, a.latency.p999.text])
                row("    Redis busy (%), its CPU per job (µs)", [redisUse(e.redisMainThreadBusyPercent, e.redisMicrosPerJob),
                                                             redisUse(a.redisMainThreadBusyPercent, a.redisMicrosPerJob)])
            }
        }
        row("Redis CPU per job, the scripts alone (µs)", [scripts(everysec.scriptsAlone), scripts(always.scriptsAlone)])
        row("  enqueue / claim / complete (µs)", [scriptParts(everysec.scriptsAlone), scriptParts(always.scriptsAlone)])
        lines.append("")
        lines.append("ratio_to_redis_limit (everysec drain ÷ median pipelined LPUSH; a job needs ≥ 3 element operations, so 0.33 is the ceiling): "
            + Sample.format(results.ratioToRedisLimit))
        lines.append("durability cost: drain with always = \(percent(always.bestDrain / everysec.bestDrain)) of everysec")
        lines.append(sustained(results.sustained))
        let scale = results.scale
        lines.append("scale: \(scale.backlog) waiting jobs use \(Int(scale.redisBytesPerWaitingJob)) bytes each in Redis; "
            + "drain with them waiting \(scale.drainWithBacklog.text) jobs/s, from empty just before each \(scale.drainFromEmpty.text) jobs/s; "
            + "pair by pair \(scale.pairRatios.map(percent).joined(separator: " / ")), median \(percent(scale.ratio))")
        return lines.joined(separator: "\n")
    }

    /// "sustained with enqueues running, 1 process, everysec: 56250 jobs/s, 74 % of its drain (56250 kept up / …);
    /// at half of it, 28125 jobs/s: p50 …, p99 …".
    private static func sustained(_ sustained: SustainedRate) -> String {
        let steps = sustained.steps.map { "\(Sample.format($0.jobsPerSecond)) " + ($0.keptUp ? "kept up" : "fell behind") }.joined(separator: " / ")
        guard let rate = sustained.jobsPerSecond, let half = sustained.latencyHalf else {
            return "sustained with enqueues running, 1 process, everysec: none of the steps kept up (\(steps))"
        }
        return "sustained with enqueues running, 1 process, everysec: \(Sample.format(rate)) jobs/s, \(percent(rate / sustained.drainJobsPerSecond)) of its drain (\(steps)); "
            + "at half of it, \(Sample.format(half.jobsPerSecond)) jobs/s: p50 \(half.latency.p50.text) ms, p99 \(half.latency.p99.text) ms, "
            + "p99.9 \(half.latency.p999.text) ms; Redis busy \(redisUse(half.redisMainThreadBusyPercent, half.redisMicrosPerJob))"
            + (sustained.tailTarget.map { target in
                "\ntail target (p99 ≤ max(2 ms, 2 × the bare list's at the same rate)): p99 \(Sample.format(target.p99Ms)) ms, "
                    + "bare list \(Sample.format(target.floorP99Ms)) ms (ratio \(Sample.format(target.ratioToFloor))), bound \(Sample.format(target.boundMs)) ms: "
                    + (target.met ? "met" : "NOT met")
            } ?? "")
    }

    /// 0.934 → "93 %".
    private static func percent(_ ratio: Double) -> String {
        "\(Int((ratio * 100).rounded())) %"
    }

    /// Medians: "97.2 %, 9.8 µs".
    private static func redisUse(_ busy: Sample, _ perJob: Sample) -> String {
        "\(Sample.format(busy.median)) %, \(Sample.format(perJob.median)) µs"
    }

    /// "14.3 (14.1–14.6), batches of 19".
    private static func scripts(_ cost: ScriptCostResult) -> String {
        "\(cost.total.text), batches of \(cost.batch)"
    }

    /// Medians: "4.7 / 5.6 / 4.2".
    private static func scriptParts(_ cost: ScriptCostResult) -> String {
        [cost.enqueue, cost.claim, cost.complete].map { Sample.format($0.median) }.joined(separator: " / ")
    }

    /// Each run's longest Redis event in whole milliseconds (the monitor's resolution): "1 / 43 / 0".
    private static func stalls(_ load: LatencyAtLoad) -> String {
        load.redisStalls.map { String(Int($0.maxMs)) }.joined(separator: " / ")
    }

    /// What the longest event of all the runs was, e.g. "aof-fsync-always".
    private static func worstStall(_ load: LatencyAtLoad) -> String {
        load.redisStalls.max { $0.maxMs < $1.maxMs }?.event ?? "none"
    }
}

extension Table {
    /// The intake part's summary, with the ratios its targets read.
    static func render(_ intake: IntakeBench.Results) -> String {
        let click = intake.clickToRing
        var lines: [String] = [
            String(format: "pgbench, intake's transaction, %d clients     %.0f tx/s", IntakeBench.apiPoolSize, intake.pgbenchPerSecond),
            String(format: "wrk GET /healthz                              %.0f requests/s", intake.healthzPerSecond),
            String(format: "wrk POST /v1/callbacks, accepted              %.0f /s (%d not accepted), p50 %.1f ms, p99 %.1f ms",
                   intake.acceptedPerSecond, intake.notAccepted, intake.intakeLatency["p50"] ?? 0, intake.intakeLatency["p99"] ?? 0),
            String(format: "accepted ÷ pgbench (target ≥ 0.5)             %.2f", intake.ratioToPgbench),
            String(format: "click to ring at %.0f/s: %d of %d rung         p50 %.1f ms, p99 %.1f ms (target ≤ 150), max %.1f ms",
                   click.rate, click.rung, click.callbacks, click.p50, click.p99, click.max),
            String(format: "two workers dial a backlog at                 %.0f /s", intake.dialsPerSecond),
        ]
        if let within = intake.clickToRingWithinDialing {
            lines.append(String(format: "click to ring at %.0f/s (half the dialing): %d of %d rung  p50 %.1f ms, p99 %.1f ms, max %.1f ms",
                                within.rate, within.rung, within.callbacks, within.p50, within.p99, within.max))
        }
        lines.append(String(format: "resident after the load                       API %.1f MB, worker %.1f MB",
                            intake.residentMB["api"] ?? 0, intake.residentMB["worker"] ?? 0))
        lines.append(String(format: "with %d old callbacks: accepted             %.0f /s, %.2f of empty (target ≥ 0.85)",
                            intake.growth.history, intake.growth.acceptedPerSecond, intake.growth.acceptedRatioToEmpty))
        lines.append(String(format: "reconciler's scan, empty → with history       %.2f ms → %.2f ms (target ≤ 1.15×)",
                            intake.growth.reconcilerMsEmpty, intake.growth.reconcilerMsHistory))
        if let memory = intake.memory {
            lines.append(String(format: "memory, %d s at %.0f/s (%d accepted)           API %.1f → %.1f MB (%.2f×), worker %.1f → %.1f MB (%.2f×) (target ≤ 1.10×)",
                                memory.seconds, memory.rate, memory.accepted, memory.apiMB[memory.warm], memory.apiMB.last ?? 0,
                                memory.apiGrowth, memory.workerMB[memory.warm], memory.workerMB.last ?? 0, memory.workerGrowth))
        }
        return lines.joined(separator: "\n")
    }
}
