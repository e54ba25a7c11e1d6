import Logging
import Metrics
import RedisClient
import Synchronization

/// Shutdown: stop fetching, let in-flight jobs finish within the grace, hand back the rest.
extension QueueProcessor {
    /// Lets in-flight jobs finish or hands them back, waits for the acks on their way, and ends
    /// the lanes.
    func drain() async {
        await finishOrHandBack()
        await waitForAcks()
        lanes.close()
    }

    /// Waits for in-flight jobs up to the grace period, then hands the rest back to ready and
    /// cancels them.
    func finishOrHandBack() async {
        let deadline = ContinuousClock.now + configuration.shutdownGrace
        while !claimed.withLock({ $0.isEmpty }) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let remaining = claimed.withLock { $0.running }
        guard !remaining.isEmpty else { return }
        var arguments: [any RedisArgument] = [keys.jobPrefix]
        for entry in remaining { arguments += [entry.id, entry.fence] }
        do {
            let count = try await QueueScripts.requeueJobs.run(on: redis, keys, .init(worker: worker), arguments: arguments)
            logger.info("shutdown: handed back \(count.int ?? 0) unfinished jobs")
        } catch {
            logger.warning("shutdown: could not hand back \(remaining.count) jobs (\(error)); the reaper will recover them")
        }
        claimed.withLock { claimed in
            for lane in Set(claimed.running.compactMap(\.lane)) { claimed.lanes[lane]?.cancel() }
        }
        // Handlers honour cancellation; one that does not is abandoned after a short wait.
        let abandon = ContinuousClock.now + .seconds(2)
        while !claimed.withLock({ $0.isEmpty }) && ContinuousClock.now < abandon {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Waits until every ack sent has landed or been given up (which `settle` does once past
    /// `giveUpAt`). With `unlessStopping`, returns false as soon as the processor is stopping.
    @discardableResult
    func waitForAcks(unlessStopping: Bool = false) async -> Bool {
        while state.withLock({ $0.unsettled > 0 }) {
            if unlessStopping && isStopping { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return true
    }
}
