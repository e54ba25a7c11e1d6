import Dispatch

/// A serial executor that runs an actor's jobs on a private Dispatch queue.
///
/// Why: Swift's cooperative pool has one thread per core (two here). An actor that makes a
/// blocking C call (a `BLMOVE`, a slow `PQexec`) on that pool starves every other task. An actor
/// whose executor is one of these blocks only its own queue's thread instead.
public final class DispatchQueueExecutor: SerialExecutor {
    private let queue: DispatchQueue

    public init(label: String) {
        queue = DispatchQueue(label: label)
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}
