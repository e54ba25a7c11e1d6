import Domain
import Foundation
import Queue
import RedisClient

/// The catalog of job types: each folder of `Jobs/` holds a handler and its declarative policy
/// (`<type>.policy.json`). Read and validated at start-up; a bad file stops start-up with a
/// message naming the file, the field and the problem.
public enum Catalog {
    /// Every job type this build runs, one line each.
    static let jobs: [any CatalogJob.Type] = [
        NoopJob.self, SleepJob.self, FlakyJob.self,
        CallbackDialJob.self, CallbackOutcomeJob.self, CallbackCheckJob.self,
        NotifySMSJob.self, NotifyEmailJob.self, NotifyTriggerJob.self, NotifyStatusJob.self,
        RecordingUploadJob.self, RecordingRetentionJob.self, DataRetentionJob.self, DataResealJob.self,
        ReportPlanJob.self, ReportEmailJob.self,
    ]

    /// The Redis scripts the jobs run (beside the engine's), for the script-set version.
    public static let scripts: [LuaScript] = [RecipientThrottle.script]

    /// Policy files and handlers of `jobs`; a job that needs `JobServices` gets a stand-in
    /// that refuses to run when there are none (a process that only enqueues).
    static func shipped(_ services: JobServices?, jobs: [any CatalogJob.Type] = jobs)
        -> (files: [(path: String, contents: [UInt8])], handlers: [String: any JobHandler]) {
        var handlers: [String: any JobHandler] = [:]
        var files: [(path: String, contents: [UInt8])] = []
        for job in jobs {
            let type = job.jobType
            handlers[type] = job.handler(services)
            files.append(("Jobs/\(type)/\(type).policy.json", job.policyFile))
        }
        return (files, handlers)
    }

    /// The shipped catalog, validated; with `services`, able to run the callback jobs.
    public static func load(services: JobServices? = nil) throws(CatalogError) -> [JobDefinition] {
        let shipped = shipped(services)
        return try load(files: shipped.files, handlers: shipped.handlers)
    }

    /// Policies of the shipped catalog by type.
    public static func policies() throws(CatalogError) -> [String: JobPolicy] {
        Dictionary(try load().map { ($0.type, $0.policy) }, uniquingKeysWith: { a, _ in a })
    }

    /// The dial flow's per-outcome retry rules (`Jobs/callback.dial/outcomes.json`), validated.
    public static func outcomePolicies() throws(CatalogError) -> OutcomePolicies {
        let file = "Jobs/callback.dial/outcomes.json"
        do {
            return try OutcomePolicies(json: PackageResources.outcomes_json, file: file)
        } catch {
            throw CatalogError(file: file, error.message.replacingOccurrences(of: "\(file): ", with: ""))
        }
    }

    /// Validates policy files against handlers; used by `load()` and by tests with crafted files.
    public static func load(files: [(path: String, contents: [UInt8])],
                            handlers: [String: any JobHandler]) throws(CatalogError) -> [JobDefinition] {
        var definitions: [JobDefinition] = []
        for file in files {
            let (type, policy) = try parse(file.path, file.contents)
            guard !definitions.contains(where: { $0.type == type }) else {
                throw CatalogError(file: file.path, field: "type", "'\(type)' is declared twice")
            }
            guard let handler = handlers[type] else {
                throw CatalogError(file: file.path, field: "type", "no handler is registered for '\(type)'")
            }
            definitions.append(JobDefinition(type: type, policy: policy, handler: handler))
        }
        if let orphan = handlers.keys.sorted().first(where: { type in !definitions.contains { $0.type == type } }) {
            throw CatalogError(file: "Jobs/\(orphan)/\(orphan).policy.json", "missing: handler '\(orphan)' has no policy file")
        }
        return definitions.sorted { $0.type < $1.type }
    }

    static let knownFields: Set<String> = ["type", "description", "queue", "max_attempts", "backoff", "timeout_ms",
                                          "dedup_window_ms", "priority", "replicas"]

    static func parse(_ path: String, _ contents: [UInt8]) throws(CatalogError) -> (String, JobPolicy) {
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(contents)) as? [String: Any] else {
                throw CatalogError(file: path, "expected a JSON object")
            }
            object = parsed
        } catch let error as CatalogError {
            throw error
        } catch {
            throw CatalogError(file: path, "not valid JSON (\(error.localizedDescription))")
        }
        if let unknown = object.keys.sorted().first(where: { !knownFields.contains($0) }) {
            throw CatalogError(file: path, field: unknown, "unknown field (known: \(knownFields.sorted().joined(separator: ", ")))")
        }
        func string(_ field: String) throws(CatalogError) -> String {
            guard let value = object[field] as? String, !value.isEmpty else {
                throw CatalogError(file: path, field: field, "expected a non-empty string, got \(describe(object[field]))")
            }
            return value
        }
        func integer(_ field: String, in source: [String: Any], _ range: ClosedRange<Int>, name: String? = nil) throws(CatalogError) -> Int {
            guard let number = source[field] as? NSNumber, String(cString: number.objCType) != "c",  // "c": a JSON boolean
                  let value = Int(exactly: number.doubleValue), range.contains(value) else {
                throw CatalogError(file: path, field: name ?? field,
                                   "expected an integer \(range.lowerBound)-\(range.upperBound), got \(describe(source[field]))")
            }
            return value
        }
        let type = try string("type")
        let expectedName = (path as NSString).lastPathComponent
        guard expectedName == "\(type).policy.json" else {
            throw CatalogError(file: path, field: "type", "'\(type)' does not match the file name (expected \(type).policy.json)")
        }
        let queue = try string("queue")
        guard Keys.isValidQueueName(queue) else {
            throw CatalogError(file: path, field: "queue", "expected 1-64 of A-Z a-z 0-9 . _ -, got '\(queue)'")
        }
        let maxAttempts = try integer("max_attempts", in: object, 1...1000)
        guard let backoff = object["backoff"] as? [String: Any] else {
            throw CatalogError(file: path, field: "backoff", "expected an object {\"base_ms\": n, \"cap_ms\": n}, got \(describe(object["backoff"]))")
        }
        let base = try integer("base_ms", in: backoff, 1...86_400_000, name: "backoff.base_ms")
        let cap = try integer("cap_ms", in: backoff, 1...604_800_000, name: "backoff.cap_ms")
        guard cap >= base else {
            throw CatalogError(file: path, field: "backoff.cap_ms", "expected ≥ backoff.base_ms (\(base)), got \(cap)")
        }
        let timeout = try integer("timeout_ms", in: object, 1...86_400_000)
        var dedup: Duration?
        if object["dedup_window_ms"] != nil {
            let window = try integer("dedup_window_ms", in: object, 0...2_592_000_000)
            dedup = window == 0 ? nil : .milliseconds(window)
        }
        var priority = JobPolicy.Priority.normal
        if object["priority"] != nil {
            let text = try string("priority")
            guard let parsed = JobPolicy.Priority(rawValue: text) else {
                throw CatalogError(file: path, field: "priority",
                                   "expected one of \(JobPolicy.Priority.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
            }
            priority = parsed
        }
        var policy = JobPolicy(queue: queue, maxAttempts: maxAttempts, backoffBase: .milliseconds(base),
                               backoffCap: .milliseconds(cap), timeout: .milliseconds(timeout), dedupWindow: dedup, priority: priority)
        if object["replicas"] != nil { policy.replicas = try integer("replicas", in: object, 0...5) }
        return (type, policy)
    }

    private static func describe(_ value: Any?) -> String {
        switch value {
        case nil: "nothing"
        case let string as String: "'\(string)'"
        case let number as NSNumber: number.stringValue
        default: "\(type(of: value!))"
        }
    }
}
