import Queue

/// A job type of the catalog: its typed args (the type's name and payload, used both to enqueue
/// and to run), its policy file, and the handler. `Catalog.jobs` lists every one; adding a type
/// is its folder and one line there.
protocol CatalogJob: JobHandler {
    associatedtype Args: JobArgs
    /// `<type>.policy.json` of the type's folder, compiled into the binary.
    static var policyFile: [UInt8] { get }
    /// The handler this process runs; with no `JobServices` (a process that only enqueues), a
    /// type that needs them gets a stand-in that refuses to run.
    static func handler(_ services: JobServices?) -> any JobHandler
    /// One attempt on the decoded args.
    func work(_ args: Args, job: Job) async throws -> JobOutcome
}

extension CatalogJob {
    static var jobType: String { Args.jobType }

    public func run(_ job: Job) async throws -> JobOutcome {
        try await work(try job.args(Args.self), job: job)
    }
}

/// A job type that needs nothing but its args (`noop`, `sleep`, `flaky`).
protocol StandaloneJob: CatalogJob {
    init()
}

extension StandaloneJob {
    static func handler(_ services: JobServices?) -> any JobHandler { Self() }
}

/// A job type that needs the dial flow, the providers and the queue.
protocol ServiceJob: CatalogJob {
    init(services: JobServices)
}

extension ServiceJob {
    static func handler(_ services: JobServices?) -> any JobHandler {
        services.map { Self(services: $0) } ?? Unavailable(type: Args.jobType)
    }
}

/// Stands in for a handler in a process without PostgreSQL or a provider (`redial enqueue`, the
/// relay): such a process reads the catalog for policies and never runs jobs.
struct Unavailable: JobHandler {
    let type: String
    func run(_ job: Job) async throws -> JobOutcome {
        throw PermanentJobError("\(type) cannot run in this process: it was started without the dial flow")
    }
}
