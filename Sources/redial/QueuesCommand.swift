import ArgumentParser
import Queue

struct QueuesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queues",
        abstract: "Pause or resume a queue: while paused its workers finish what they run and claim nothing more.",
        subcommands: [Pause.self, Resume.self])

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pause a queue; enqueues go on and the jobs wait.")
        @Argument(help: "The queue.") var name: String
        @Option(help: "Why, kept with the pause and shown by stats.") var reason = "paused by an operator"

        func run() async throws {
            guard Keys.isValidQueueName(name) else { throw ValidationError("queue name '\(name)': expected 1-64 of A-Z a-z 0-9 . _ -") }
            let paused = try await Environment.withQueue { try await $0.pause(queue: name, reason: reason) }
            print(paused ? "\(name): paused" : "\(name): was already paused")
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume a paused queue; its workers claim again within a quarter second.")
        @Argument(help: "The queue.") var name: String

        func run() async throws {
            let resumed = try await Environment.withQueue { try await $0.resume(queue: name) }
            print(resumed ? "\(name): resumed" : "\(name): was not paused")
        }
    }
}
