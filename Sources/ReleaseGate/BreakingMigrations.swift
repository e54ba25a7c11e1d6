import Foundation
import PostgresClient
import Queue

/// Mixed versions and the schema: an additive migration runs while older builds still work
/// beside it, a breaking one (`-- breaking: why`) only once no live worker runs a build that
/// predates it (each announces the newest migration it knows in its heartbeat).
public enum BreakingMigrations {
    /// Why `pending` may not be applied while `workers` run, naming each migration and the
    /// workers in its way; nil when nothing stands in the way.
    public static func refusal(pending: [Migration], workers: [String: WorkerRelease?]) -> String? {
        var lines: [String] = []
        for migration in pending {
            guard let why = migration.breaking else { continue }
            let older = workers.filter { ($0.value?.schema ?? 0) < migration.version }.sorted { $0.key < $1.key }
            guard !older.isEmpty else { continue }
            let names = older.map { id, release in
                "\(id) (\(release.map { "\($0.version), build \($0.build), schema \($0.schema.map(String.init) ?? "unknown")" } ?? "announces no release"))"
            }
            lines.append("migration \(String(format: "%04d", migration.version))_\(migration.name) is breaking (\(why)); "
                         + "workers of older builds still run: \(names.joined(separator: ", "))")
        }
        return lines.isEmpty ? nil : lines.joined(separator: "\n")
    }
}
