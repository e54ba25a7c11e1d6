import ArgumentParser
import Foundation
import Queue
import RedisClient
import Settings

struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "Inspect and repair jobs: list dead jobs, inspect one, retry or delete dead ones.",
        subcommands: [Dead.self, Inspect.self, Retry.self, Delete.self])

    static func checkID(_ id: String) throws {
        guard JobID.isValid(id) else { throw ValidationError("'\(id)' is not a job id (26 characters of Crockford base32)") }
    }

    static func line(_ record: JobRecord) -> String {
        "\(record.id)  \(record.type)  attempt \(record.attempt)/\(record.maxAttempts)  \(record.lastError ?? "")"
    }

    struct Dead: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead jobs, most recent first, with their last error.")
        @Option(help: "Only this queue (default: all).") var queue: String?
        @Option(help: "At most this many per queue.") var limit = 100

        func run() async throws {
            try await Environment.withQueue { jobs in
                let names = if let queue { [queue] } else { try await jobs.queues() }
                for name in names {
                    for record in try await jobs.dead(queue: name, limit: limit) { print("\(name)  " + line(record)) }
                }
            }
        }
    }

    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a job's stored record as JSON.")
        @Argument(help: "Job id.") var id: String

        func validate() throws { try checkID(id) }

        func run() async throws {
            guard let record = try await Environment.withQueue({ try await $0.find(id: id) }) else {
                Environment.fail("no job \(id) in any queue (completed jobs expire after their retention)")
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(record.fields), as: UTF8.self))
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a dead job (or every dead job) back to ready with fresh attempts.")
        @Argument(help: "Job id.") var id: String?
        @Flag(help: "Retry every dead job.") var all = false
        @Option(help: "With --all: only this queue.") var queue: String?

        func validate() throws {
            guard (id == nil) != !all else { throw ValidationError("give a job id or --all, not both or neither") }
            if let id { try checkID(id) }
        }

        func run() async throws {
            let retried: Int = try await Environment.withQueue { jobs in
                if let id {
                    guard let record = try await jobs.find(id: id) else { return -1 }
                    return try await jobs.retryDead(queue: record.queue, id: id) ? 1 : 0
                }
                var count = 0
                let names = if let queue { [queue] } else { try await jobs.queues() }
                for name in names {
                    while true {
                        let dead = try await jobs.dead(queue: name, limit: 500)
                        if dead.isEmpty { break }
                        for record in dead where try await jobs.retryDead(queue: name, id: record.id) { count += 1 }
                    }
                }
                return count
            }
            if retried < 0 { Environment.fail("no job \(id ?? "")") }
            if id != nil && retried == 0 { Environment.fail("job \(id ?? "") is not dead; nothing to retry") }
            print("retried \(retried)")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a dead job for good.")
        @Argument(help: "Job id.") var id: String

        func validate() throws { try checkID(id) }

        func run() async throws {
            let deleted: Bool? = try await Environment.withQueue { jobs in
                guard let record = try await jobs.find(id: id) else { return nil }
                return try await jobs.deleteDead(queue: record.queue, id: id)
            }
            switch deleted {
            case nil: Environment.fail("no job \(id)")
            case false?: Environment.fail("job \(id) is not dead; only dead jobs can be deleted")
            case true?: print("deleted \(id)")
            }
        }
    }
}
