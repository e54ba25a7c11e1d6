/// The free handler slots of one queue. The fetch loop takes every free slot at once, so one
/// claim round trip fetches as many jobs as there is room for.
actor Slots {
    private var free: Int
    private var waiter: CheckedContinuation<Int, Never>?
    private var closed = false

    init(_ count: Int) { free = count }

    /// Waits until at least one slot is free and takes them all; 0 once closed.
    func takeAvailable() async -> Int {
        if closed { return 0 }
        if free > 0 {
            defer { free = 0 }
            return free
        }
        return await withCheckedContinuation { waiter = $0 }
    }

    func give(_ count: Int = 1) {
        free += count
        if let waiter, !closed {
            self.waiter = nil
            let taken = free
            free = 0
            waiter.resume(returning: taken)
        }
    }

    /// Wakes the fetch loop with 0 so it can stop even while every slot is busy.
    func close() {
        closed = true
        waiter?.resume(returning: 0)
        waiter = nil
    }
}
