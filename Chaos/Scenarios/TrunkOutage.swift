import Foundation

/// Fault: the SIP trunk stops answering OPTIONS for a while (SIPp stopped, then started again).
/// Invariant: the watchdog sees it within its thresholds, TrunkDown fires, dialing pauses so no
/// attempt is spent on a carrier that is down, and resumes by itself; no callback is lost.
struct TrunkOutage: Fault {
    let seconds: Int
    var name: String { "trunk outage \(seconds) s" }
    var expectedAlerts: [String] { ["TrunkDown"] }
    var explains: [String] { ["TrunkDown", "DialPaused", "CallbackSLA", "QueueStalled"] }

    func inject(_ cluster: ChaosCluster) async throws {
        try await cluster.hit("trunk", signal: SIGKILL, restartAfter: .seconds(seconds))
    }
}
