import Logging
import Metrics
import RedisClient
import Synchronization

/// The fetch loop: one blocking connection claims a job per free handler slot (a `BLMOVE` and
/// `claimJobs` in one write) and hands each to a lane; orphans of a lost claim reply go back first.
extension QueueProcessor {
    func fetchAndRun() async {
        let connection = RedisConnection(configuration: redisConfiguration)
        var pause = Pause()
        var orphansSuspected = false
        while !isStopping {
            let room = await slots.takeAvailable()
            if room == 0 { break }
            do {
                if orphansSuspected { orphansSuspected = try await !handBackOrphans(connection) }
                guard let jobs = try await claim(connection, count: room) else {
                    slots.give(room)
                    await waitWhilePaused(connection)
                    continue
                }
                if jobs.count < room { slots.give(room - jobs.count) }
                for job in jobs { hand(job) }
                // Handlers that finish at once (their lanes are queued behind this loop on the
                // queue's executor) give their slots back before the next claim counts them:
                // otherwise it waits in BLMOVE asking for fewer jobs than there is room for.
                if !jobs.isEmpty { await Task.yield() }
                pause.reset()
            } catch {
                slots.give(room)
                orphansSuspected = true  // a claim whose reply was lost may have moved jobs
                logger.warning("fetch failed: \(error)")
                await pause.wait()
            }
        }
        await drain()
        await connection.close()
    }

    /// Claims up to `count` jobs, waiting for one if ready is empty: `BLMOVE ready → landing`
    /// and `claimJobs` sent in one write. Redis runs a client's commands in order, so the claim
    /// runs the moment BLMOVE has moved a job (at once if ready has one; when BLMOVE times out
    /// it finds nothing): one round trip whether the queue is busy or quiet, and the first job
    /// of a quiet queue starts one round trip after its enqueue.
    /// nil: the queue is paused (nothing was taken; what landed stays for the next claim).
    func claim(_ connection: RedisConnection, count: Int) async throws -> [Job]? {
        let block = configuration.fetchBlock
        let replies = try await connection.pipeline([
            .command(["BLMOVE", keys.ready, keys.landing(worker), "RIGHT", "LEFT", String(Double(block.milliseconds) / 1000)]),
            WorkerCommands.claim(keys, worker: worker, count: count),
        ], blocking: block)
        // What the claim took is returned even if BLMOVE failed: jobs claimed and dropped here
        // would sit in the held hash until the orphan hand-back.
        let reply = try replies[1].get()
        if WorkerCommands.saysPaused(reply) { return nil }
        let claimed = WorkerCommands.claimed(in: reply, queue: keys.queue)
        if claimed.isEmpty { _ = try replies[0].get() }
        return claimed
    }

    /// While the queue is paused, no `BLMOVE` either (it would move every ready job into this
    /// worker's landing list): the pause key is checked every `pausePoll` until it is gone or
    /// the worker stops. The pause costs the hot path nothing: `claimJobs` itself checks it.
    /// A Redis that cannot be asked counts as still paused (the next claim looks again).
    func waitWhilePaused(_ connection: RedisConnection) async {
        metrics.paused(true)
        logger.notice("queue paused: claiming nothing until it is resumed")
        var pause = Pause()
        while !isStopping {
            do {
                guard try await connection.send("EXISTS", keys.paused).int == 1 else { break }
                pause.reset()
                try? await Task.sleep(for: QueueProcessor.pausePoll)
            } catch {
                logger.warning("cannot see whether the queue is still paused: \(error)")
                await pause.wait()
            }
        }
        metrics.paused(false)
        if !isStopping { logger.notice("queue resumed") }
    }

    /// Hands back jobs this worker holds but is neither running nor acknowledging. Waits for
    /// the acks on their way first: a job whose ack has not landed is still held, and handed
    /// back it would run again. Returns false when it must be tried again (an ack set off while
    /// the held hash was read).
    func handBackOrphans(_ connection: RedisConnection) async throws -> Bool {
        // Stopping: the fetch loop ends, and the reaper recovers what is left once we retire.
        guard await waitForAcks(unlessStopping: true) else { return true }
        let held = try await connection.send("HGETALL", keys.held(worker)).array?.compactMap(\.string) ?? []
        // In this order: a handler that returns counts its ack as unsettled before it leaves the
        // running set, so a job missing from the set read first shows in the count read second.
        // (An ack that lands meanwhile deletes its held entry, and requeueJobs's fence check
        // then leaves the job alone.)
        let running = claimed.withLock { Set($0.running.map(\.id)) }
        guard state.withLock({ $0.unsettled == 0 }) else { return false }
        var arguments: [any RedisArgument] = [keys.jobPrefix]
        for pair in stride(from: 0, to: held.count - 1, by: 2) where !running.contains(held[pair]) {
            arguments += [held[pair], held[pair + 1]]
        }
        guard arguments.count > 1 else { return true }
        let count = try await connection.run(QueueScripts.requeueJobs.script, keys: QueueScripts.requeueJobs.keys(keys, .init(worker: worker)),
                                             arguments: arguments).int ?? 0
        logger.warning("handed back \(count) orphaned jobs after a lost claim reply")
        return true
    }

    /// Enters a claimed job in the table and gives it to a lane.
    func hand(_ job: Job) {
        let timeout = timeout(of: job)
        let ticket = claimed.withLock { claimed in
            let ticket = claimed.freeTickets.removeLast()  // a slot was taken for this job, so a ticket is free
            claimed.rows[ticket] = Running(id: job.id, fence: job.fence, deadline: .now + timeout)
            return ticket
        }
        lanes.hand(Lanes.Assignment(job: job, ticket: ticket))
    }

    /// Starts the lane (again, after a cancellation ended the one before). Created under the
    /// lock, so the timeout watcher never sees a job on a lane whose task it does not know.
    func startLane(_ lane: Int, _ acknowledger: Acknowledger) {
        claimed.withLock { claimed in
            claimed.lanes[lane] = Task(executorPreference: executor) {
                await self.runLane(lane, acknowledger)
            }
        }
    }

    func runLane(_ lane: Int, _ acknowledger: Acknowledger) async {
        while let assignment = await lanes.next() {
            await execute(assignment, lane: lane, acknowledger)
            // Cancellation sticks to a task: a lane cancelled for its job's timeout or for
            // shutdown would hand every later job a cancelled context. It gives way to a new one.
            if Task.isCancelled {
                if !isStopping { startLane(lane, acknowledger) }
                return
            }
        }
    }
}
