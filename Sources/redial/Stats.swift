import ArgumentParser
import Foundation
import Queue
import RedisClient
import Settings

struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show every queue's counts and the live workers by release.")

    @Flag(help: ArgumentHelp("Print JSON: {\"queues\": {\"<name>\": {ready, delayed, active, dead, completed, failed, paused}}, \"workers\": n, "
        + "\"releases\": [{channel, version, build, scripts, workers}]}."))
    var json = false

    struct Report: Encodable {
        let queues: [String: QueueStats]
        let workers: Int
        let releases: [Release]
    }

    /// Live workers by the release they announced.
    struct Release: Encodable {
        let channel: String
        let version: String
        let build: String
        let scripts: String
        let workers: Int
    }

    func run() async throws {
        let settings = try Environment.settings()
        let pool = RedisPool(configuration: Environment.redisConfiguration(settings, poolSize: 2))
        let jobs = JobQueue(redis: pool, timeScale: settings.timeScale)
        let report: Report
        do {
            let names = try await jobs.queues()
            var queues: [String: QueueStats] = [:]
            for name in names { queues[name] = try await jobs.stats(queue: name) }
            let live = try await jobs.liveWorkers(queues: names)
            let byRelease = Dictionary(grouping: live.values, by: { $0 }).map { release, workers in
                Release(channel: release?.channel.rawValue ?? "unknown", version: release?.version ?? "unknown",
                        build: release?.build ?? "unknown", scripts: release?.scripts ?? "unknown", workers: workers.count)
            }
            report = Report(queues: queues, workers: live.count,
                            releases: byRelease.sorted { ($0.channel, $0.version, $0.build) < ($1.channel, $1.version, $1.build) })
        } catch {
            await pool.close()
            Environment.fail("\(error)")
        }
        await pool.close()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print("queue".padding(20) + ["ready", "delayed", "active", "dead", "completed", "failed"].map { $0.padding(11) }.joined())
        for (name, stats) in report.queues.sorted(by: { $0.key < $1.key }) {
            print(name.padding(20) + [stats.ready, stats.delayed, stats.active, stats.dead, stats.completed, stats.failed]
                .map { String($0).padding(11) }.joined() + (stats.paused ? "paused" : ""))
        }
        print("live workers: \(report.workers)")
        for release in report.releases {
            print("  \(release.channel) \(release.version) (build \(release.build), scripts \(release.scripts)): \(release.workers)")
        }
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
