import Foundation
import LocalServices

/// Fault: `kill -9` of the active watchdog, restarted after a second (it comes back as the standby).
/// Invariant: the standby holds the lease within its time to live and probes on, so no alert
/// says the cluster is unwatched (WatchdogAbsent) and a trunk outage after it is still seen.
struct KillWatchdog: Fault {
    let name = "kill -9 active watchdog"

    func inject(_ cluster: ChaosCluster) async throws {
        guard let active = await cluster.activeWatchdog() else { throw SetupError("no watchdog is active to kill") }
        try await cluster.hit(active, signal: SIGKILL, restartAfter: nil)
        // The lease lives 0.6 s at the watchdogs' time scale; a few seconds is a failed takeover.
        let standby = ChaosCluster.watchdogs.first { $0 != active }
        guard try await eventually(timeout: .seconds(5), { await cluster.activeWatchdog() == standby }) else {
            try cluster.start(active)
            throw SetupError("\(standby ?? "the standby") did not take over within 5 s of \(active)'s death")
        }
        try await Task.sleep(for: .seconds(1))
        try cluster.start(active)
    }
}
