import Foundation

/// Fault: `kill -9` of the API mid-load, restarted after a second.
/// Invariant: a request answered 202 was committed with its outbox row; one cut off before its
/// answer was either committed (and is dialled) or not (and the client sees an error).
struct KillAPI: Fault {
    let name = "kill -9 API"
    var explains: [String] { ["ServiceDown"] }

    func inject(_ cluster: ChaosCluster) async throws {
        try await cluster.hit("api", signal: SIGKILL, restartAfter: .seconds(1))
    }
}
