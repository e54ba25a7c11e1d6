import Foundation
import Queue

/// Periodic jobs: `Jobs/schedules.json`, plus an operator's file named by `REDIAL_SCHEDULES`
/// (same format; a name in both is an error). Validated at start-up against the catalog: an
/// unknown job type, a bad cron expression or catch-up policy stops start-up naming the file,
/// the schedule and the field.
public enum Schedules {
    static let knownFields: Set<String> = ["description", "cron", "type", "catch_up", "timezone", "queue", "payload"]

    /// The shipped schedules and those of `extraFile`, for the catalog's job types.
    public static func load(definitions: [JobDefinition], extraFile: String? = nil) throws(CatalogError) -> [PeriodicSchedule] {
        var schedules = try parse(path: "Jobs/schedules.json", contents: PackageResources.schedules_json, definitions: definitions)
        if let extraFile {
            guard let data = FileManager.default.contents(atPath: extraFile) else { throw CatalogError(file: extraFile, "cannot be read") }
            for schedule in try parse(path: extraFile, contents: Array(data), definitions: definitions) {
                guard !schedules.contains(where: { $0.name == schedule.name }) else {
                    throw CatalogError(file: extraFile, field: schedule.name, "already declared in Jobs/schedules.json")
                }
                schedules.append(schedule)
            }
        }
        return schedules
    }

    public static func parse(path: String, contents: [UInt8], definitions: [JobDefinition]) throws(CatalogError) -> [PeriodicSchedule] {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(contents))) as? [String: Any] else {
            throw CatalogError(file: path, "expected a JSON object of schedules by name")
        }
        var schedules: [PeriodicSchedule] = []
        for name in object.keys.sorted() {
            guard Keys.isValidQueueName(name) else { throw CatalogError(file: path, field: name, "a schedule name is 1-64 of A-Z a-z 0-9 . _ -") }
            guard let entry = object[name] as? [String: Any] else { throw CatalogError(file: path, field: name, "expected an object") }
            if let unknown = entry.keys.sorted().first(where: { !knownFields.contains($0) }) {
                throw CatalogError(file: path, field: "\(name).\(unknown)", "unknown field (known: \(knownFields.sorted().joined(separator: ", ")))")
            }
            guard let cronText = entry["cron"] as? String else { throw CatalogError(file: path, field: "\(name).cron", "expected a cron expression") }
            let cron: CronExpression
            do {
                cron = try CronExpression(cronText)
            } catch {
                throw CatalogError(file: path, field: "\(name).cron", error.description)
            }
            guard let type = entry["type"] as? String, let definition = definitions.first(where: { $0.type == type }) else {
                throw CatalogError(file: path, field: "\(name).type", "expected a job type of the catalog, got \(entry["type"].map { "'\($0)'" } ?? "nothing")")
            }
            let catchUpText = entry["catch_up"] as? String ?? "latest"
            guard let catchUp = PeriodicSchedule.CatchUp(rawValue: catchUpText) else {
                throw CatalogError(file: path, field: "\(name).catch_up",
                                   "expected one of \(PeriodicSchedule.CatchUp.allCases.map(\.rawValue).joined(separator: ", ")), got '\(catchUpText)'")
            }
            let zoneText = entry["timezone"] as? String ?? "UTC"
            guard let zone = TimeZone(identifier: zoneText) else {
                throw CatalogError(file: path, field: "\(name).timezone", "expected an IANA zone such as Europe/Moscow, got '\(zoneText)'")
            }
            var policy = definition.policy
            if let queue = entry["queue"] {
                guard let queue = queue as? String, Keys.isValidQueueName(queue) else {
                    throw CatalogError(file: path, field: "\(name).queue", "expected 1-64 of A-Z a-z 0-9 . _ -")
                }
                policy.queue = queue
            }
            let payload = entry["payload"] ?? [String: String]()
            guard let fields = payload as? [String: String], fields["tick"] == nil else {
                throw CatalogError(file: path, field: "\(name).payload", "expected an object of strings (\"tick\" is added by the scheduler)")
            }
            schedules.append(PeriodicSchedule(name: name, cron: cron, timeZone: zone, type: type, payload: fields, policy: policy,
                                              catchUp: catchUp))
        }
        return schedules
    }
}
