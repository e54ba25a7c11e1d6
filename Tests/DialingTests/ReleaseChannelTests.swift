import Domain
import Foundation
import LocalServices
import Queue
import RedisClient
import Testing
import TestSupport

/// Release channels end to end: a site marked beta (by `redial sites channel`) has its callback
/// dialled, its outcome handled and its follow-ups run by the beta worker (`redial up --channel
/// beta` running another executable), on beta's own queues (`callbacks@beta`); a production
/// site's callback never touches them.
extension DialFlowTests {
    @Test func aBetaSitesCallbackIsHandledOnBetaQueuesAndAProductionSitesIsNot() async throws {
        let cluster = try await Cluster(workers: 1)
        // Beta's workers from a build of their own, beside production's (`redial up --channel beta --binary`).
        let betaBuild = FileManager.default.temporaryDirectory.appendingPathComponent("redial-beta-\(UUID().uuidString.prefix(8))")
        try FileManager.default.copyItem(atPath: RedialBinary.path, toPath: betaBuild.path)
        let beta = try RedialBinary.start(["up", "--channel", "beta", "--binary", betaBuild.path, "--workers", "1", "--concurrency", "8"],
                                          environment: cluster.environment, logName: "beta-up-\(UInt16.random(in: 0...UInt16.max))")
        defer {
            beta.stop(signal: SIGTERM)
            cluster.stop()
            try? FileManager.default.removeItem(at: betaBuild)
        }
        let betaSite = try await site()
        let moved = try await RedialBinary.run(["sites", "channel", betaSite.id, "beta"], environment: cluster.environment)
        #expect(moved.status == 0 && moved.output.contains("new callbacks go to beta"), "\(moved.output)")
        let productionSite = try await site()

        let betaVisitor = number(0), productionVisitor = number(0)
        let betaID = try await request(cluster, key: betaSite.key, phone: betaVisitor)
        let productionID = try await request(cluster, key: productionSite.key, phone: productionVisitor)
        try await waitTerminal([betaID, productionID])
        #expect(try await state(betaID).status == "completed")
        #expect(try await state(productionID).status == "completed")

        // The beta callback's dial and outcome jobs ran on beta's queue, none on production's.
        let redis = try await TestServices.redis(poolSize: 1)
        defer { Task { await redis.close() } }
        func job(_ dedupKey: String, in queue: String) async throws -> String? {
            try await redis.send("GET", Keys(queue: queue).dedup(dedupKey)).string
        }
        let betaDial = DialArgs.dedupKey(betaID, attempt: 1)
        #expect(try await job(betaDial, in: "callbacks@beta") != nil)
        #expect(try await job(betaDial, in: "callbacks") == nil)
        let rings = try await cluster.rings()
        let betaCall = try #require(rings.first { $0["visitor"] as? String == betaVisitor }?["call_id"] as? String)
        let outcome = CallOutcomeArgs.dedupKey(eventID: "evt-\(betaCall)")
        #expect(try await job(outcome, in: "callbacks@beta") != nil, "the carrier's webhook came back to beta")
        #expect(try await job(outcome, in: "callbacks") == nil)
        // The production callback stayed on production's queue.
        let productionDial = DialArgs.dedupKey(productionID, attempt: 1)
        #expect(try await job(productionDial, in: "callbacks") != nil)
        #expect(try await job(productionDial, in: "callbacks@beta") == nil)

        // `redial stats` shows the beta worker by its channel.
        let stats = try await RedialBinary.run(["stats"], environment: cluster.environment)
        #expect(stats.output.contains("  beta \(try await RedialBinary.run(["--version"]).output.trimmingCharacters(in: .whitespacesAndNewlines)) (build "),
                "\(stats.output.suffix(400))")
        // Stopped, `up` takes its workers down with it: beta has none left.
        beta.stop(signal: SIGTERM)
        #expect(try await eventually(timeout: .seconds(20)) {
            !(try await RedialBinary.run(["stats"], environment: cluster.environment).output.contains("  beta "))
        })
    }
}
