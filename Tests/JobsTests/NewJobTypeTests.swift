import Foundation
@testable import Jobs
import Queue
import Testing

/// Adding a job type is its folder (args, handler, policy file) and one line in `Catalog.jobs`:
/// here the folder is this file and the line is the `+ [GreetJob.self]`.
@Suite struct NewJobTypeTests {
    struct GreetJob: StandaloneJob {
        struct Args: JobArgs {
            static let jobType = "greet"
            let name: String
        }

        static var policyFile: [UInt8] {
            Array(#"{"type": "greet", "queue": "default", "max_attempts": 3, "backoff": {"base_ms": 1000, "cap_ms": 60000}, "timeout_ms": 10000}"#.utf8)
        }

        func work(_ args: Args, job: Job) async throws -> JobOutcome {
            args.name.isEmpty ? .discard(reason: "nobody to greet") : .completed
        }
    }

    func catalog() throws -> [JobDefinition] {
        let shipped = Catalog.shipped(nil, jobs: Catalog.jobs + [GreetJob.self])
        return try Catalog.load(files: shipped.files, handlers: shipped.handlers)
    }

    /// The job a request for `args` becomes once claimed.
    func job(_ request: JobQueue.Request) -> Job {
        Job(id: "j1", type: request.type, queue: request.policy.queue, payload: Array(request.payload.utf8), attempt: 1,
            maxAttempts: request.policy.maxAttempts, enqueuedAt: 0, startedAt: 0, timeout: nil, fence: 1)
    }

    @Test func aNewTypeIsItsFolderAndOneLine() async throws {
        let definitions = try catalog()
        let greet = try #require(definitions.first { $0.type == "greet" })
        #expect(greet.policy.maxAttempts == 3)
        let policies = Dictionary(uniqueKeysWithValues: definitions.map { ($0.type, $0.policy) })
        // The same typed value is what an enqueue sends and what the handler is given.
        let request = try JobQueue.Request(GreetJob.Args(name: "Ada"), policies: policies)
        #expect(request.type == "greet" && request.payload == #"{"name":"Ada"}"#)
        #expect(try await greet.handler.run(job(request)) == .completed)
        let nobody = try JobQueue.Request(GreetJob.Args(name: ""), policies: policies)
        #expect(try await greet.handler.run(job(nobody)) == .discard(reason: "nobody to greet"))
    }

    @Test func aPayloadThatIsNotTheArgsOrAJobOfAnotherTypeIsAPermanentFailure() async throws {
        let greet = try #require(try catalog().first { $0.type == "greet" })
        let policy = greet.policy
        let wrongShape = job(JobQueue.Request(type: "greet", payload: #"{"name": 7}"#, policy: policy))
        await #expect(throws: PermanentJobError.self) { try await greet.handler.run(wrongShape) }
        let otherType = job(JobQueue.Request(type: "noop", payload: #"{"name": "Ada"}"#, policy: policy))
        let error = await #expect(throws: PermanentJobError.self) { try await greet.handler.run(otherType) }
        #expect(error?.reason.contains("noop job was given to the greet handler") == true)
    }

    @Test func anArgsTypeWithoutAPolicyIsRefusedAtEnqueue() throws {
        #expect(throws: QueueError.self) { try JobQueue.Request(GreetJob.Args(name: "Ada"), policies: [:]) }
    }
}
