import Foundation
import LocalServices

/// Fault: a step of the release path taken in the middle of the other faults: a beta release
/// starts to soak (a beta worker from a copy of the build, half the callbacks sent to beta), is
/// rolled back (the beta worker then stops for good), or is promoted (forced: a soak of seconds
/// has no samples), production's workers moving to its build one at a time, each draining first.
/// Invariant: every callback accepted meanwhile completes once and rings no one twice, and no
/// job is left on a channel without workers (what waited on beta moves to production's queues).
struct ReleaseStep: Fault {
    enum Action: Sendable {
        case start, rollBack, promote
    }

    let action: Action
    let version: String

    var name: String {
        switch action {
        case .start: "release \(version): start beta"
        case .rollBack: "release \(version): roll back, beta worker stopped"
        case .promote: "release \(version): promote, production's workers replaced one by one"
        }
    }

    /// Beta's jobs wait without a worker until the watchdog's next look moves them; a replaced
    /// worker is missing for a moment; the watchdog may roll a soaking beta back by itself.
    var explains: [String] { ["ChannelWithoutWorkers", "BetaRolledBack", "WorkersMissing", "QueueStalled", "CallbackSLA"] }

    func inject(_ cluster: ChaosCluster) async throws {
        let version = version + "-" + cluster.runStamp
        switch action {
        case .start:
            cluster.use(try cluster.copyBuild(version), for: ChaosCluster.betaWorker)
            try cluster.start(ChaosCluster.betaWorker)
            try await release(["start", version, "--window", "1m"], cluster)
        case .rollBack:
            do {
                try await release(["rollback", version, "--reason", "chaos: rolled back during faults"], cluster)
            } catch let error as SetupError where "\(error)".contains("is not soaking") {
                log("release \(version) was rolled back already (by the watchdog)")
            }
            await cluster.retire(ChaosCluster.betaWorker)
        case .promote:
            let build = try cluster.copyBuild(version + "-production")
            try await release(["promote", version, "--force", "--reason", "chaos: promoted during faults", "--binary", build], cluster)
            for index in 0..<cluster.workerCount {
                let name = ChaosCluster.workerName(index)
                cluster.use(build, for: name)
                try await cluster.hit(name, signal: SIGTERM, restartAfter: .zero)
                // The next one drains only once this one serves again.
                guard try await eventually(timeout: .seconds(20), every: .milliseconds(200), { try await cluster.liveWorkers() >= cluster.workerCount }) else {
                    throw SetupError("\(name) did not serve again within 20 s of its replacement")
                }
            }
            await cluster.retire(ChaosCluster.betaWorker)
        }
    }

    private func release(_ arguments: [String], _ cluster: ChaosCluster) async throws {
        let result = try await RedialBinary.run(["release"] + arguments, environment: cluster.environment)
        guard result.status == 0 else { throw SetupError("redial release \(arguments.joined(separator: " ")): \(result.output)") }
    }
}
