import Dispatch

/// The executor a queue's hot path prefers: its fetch loop, its job tasks and its ack batches
/// run one at a time on a serial Dispatch queue.
///
/// Why: on the global pool every job task, resumed continuation and given-back slot is a
/// separate enqueue that wakes another pool thread (a futex round trip and a context switch):
/// measured with `perf`, those wake-ups were about half of a worker's CPU per no-op job. On a
/// serial queue, work enqueued while it runs joins the running drain without waking anything.
/// A queue's handlers therefore share one thread; blocking calls go to BlockingIO's own
/// threads as before, and each queue has an executor of its own.
final class QueueExecutor: TaskExecutor {
    private let queue: DispatchQueue

    init(queue name: String) {
        queue = DispatchQueue(label: "redial.queue.\(name)")
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
