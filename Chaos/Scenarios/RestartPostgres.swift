/// Fault: a fast restart of PostgreSQL (every session cut).
/// Invariant: an accepted callback is never lost (intake answers 5xx rather than 202 while it is
/// down); jobs that failed on it retry; no transaction is left half-done.
struct RestartPostgres: Fault {
    let name = "restart PostgreSQL"
    var explains: [String] { ["ServiceDown", "ReconcilerStale", "OutboxBacklog", "CallbackSLA"] }

    func inject(_ cluster: ChaosCluster) async throws {
        try cluster.make("pg-restart")
    }
}
