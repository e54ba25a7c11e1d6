import Synchronization

/// The free handler slots of one queue. The fetch loop takes every free slot at once, so one
/// claim round trip fetches as many jobs as there is room for. A lock, not an actor: giving a
/// slot back costs no task hop on the hot path.
final class Slots: Sendable {
    private struct State {
        var free: Int
        var waiter: CheckedContinuation<Int, Never>?
        var closed = false
    }

    private let state: Mutex<State>

    init(_ count: Int) { state = Mutex(State(free: count)) }

    /// Waits until at least one slot is free and takes them all; 0 once closed.
    func takeAvailable() async -> Int {
        if let ready = state.withLock({ Self.take(&$0) }) { return ready }
        return await withCheckedContinuation { continuation in
            let ready: Int? = state.withLock { state in
                if let ready = Self.take(&state) { return ready }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    private static func take(_ state: inout State) -> Int? {
        if state.closed { return 0 }
        guard state.free > 0 else { return nil }
        defer { state.free = 0 }
        return state.free
    }

    func give(_ count: Int = 1) {
        let wake: (CheckedContinuation<Int, Never>, Int)? = state.withLock { state in
            state.free += count
            guard let waiter = state.waiter else { return nil }
            state.waiter = nil
            defer { state.free = 0 }
            return (waiter, state.closed ? 0 : state.free)
        }
        if let (waiter, taken) = wake { waiter.resume(returning: taken) }
    }

    /// Wakes the fetch loop with 0 so it can stop even while every slot is busy.
    func close() {
        let waiter = state.withLock { state in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: 0)
    }
}
