import Synchronization

/// Hands claimed jobs to a queue's lanes: long-lived tasks that each run one job after another.
///
/// Why lanes and not a task per job: a new task costs a handful of `malloc`s of 1–3 KB (the task,
/// its first allocator slabs, a copy of the task locals), which glibc serves from its slow path.
/// Measured with `perf` on a no-op drain, that was the largest share of a worker's `malloc`
/// time. A lane's slabs are kept from one job to the next.
final class Lanes: Sendable {
    /// A job and its ticket: its row in the processor's table of claimed jobs.
    struct Assignment: Sendable {
        let job: Job
        let ticket: Int
    }

    private struct State {
        /// Jobs handed over while every lane was busy, oldest at `head`.
        var queued: [Assignment] = []
        var head = 0
        var idle: [CheckedContinuation<Assignment?, Never>] = []
        var closed = false
    }

    private let state: Mutex<State>

    init(count: Int) {
        var state = State()
        state.queued.reserveCapacity(count)
        state.idle.reserveCapacity(count)
        self.state = Mutex(state)
    }

    /// Gives a job to an idle lane, or queues it for the next lane that asks.
    func hand(_ assignment: Assignment) {
        let lane: CheckedContinuation<Assignment?, Never>? = state.withLock { state in
            if let lane = state.idle.popLast() { return lane }
            state.queued.append(assignment)
            return nil
        }
        lane?.resume(returning: assignment)
    }

    /// The next job for a lane, waiting for one; nil once closed.
    func next() async -> Assignment? {
        switch state.withLock({ Self.take(&$0) }) {
        case .job(let assignment): return assignment
        case .closed: return nil
        case .wait: break
        }
        return await withCheckedContinuation { continuation in
            let taken: Take = state.withLock { state in
                let taken = Self.take(&state)
                if case .wait = taken { state.idle.append(continuation) }
                return taken
            }
            switch taken {
            case .job(let assignment): continuation.resume(returning: assignment)
            case .closed: continuation.resume(returning: nil)
            case .wait: break
            }
        }
    }

    private enum Take {
        case job(Assignment)
        case closed
        case wait
    }

    private static func take(_ state: inout State) -> Take {
        guard state.head < state.queued.count else { return state.closed ? .closed : .wait }
        let assignment = state.queued[state.head]
        state.head += 1
        if state.head == state.queued.count {
            state.queued.removeAll(keepingCapacity: true)
            state.head = 0
        }
        return .job(assignment)
    }

    /// Ends idle lanes (with nil) and every lane that asks from now on.
    func close() {
        let idle = state.withLock { state in
            state.closed = true
            defer { state.idle = [] }
            return state.idle
        }
        idle.forEach { $0.resume(returning: nil) }
    }
}
