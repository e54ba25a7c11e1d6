import Foundation

/// The `redial` executable built by `swift build` (make test builds it before the tests).
public enum RedialBinary {
    public static var path: String {
        LocalHost.repositoryRoot.appendingPathComponent(".build/debug/redial").path
    }

    /// Starts `redial <arguments>` with the given extra environment; `launcher` runs before it
    /// (e.g. `ip netns exec NS`, which execs redial, so the pid is redial's). `executable`: another
    /// build's (a release's copy) instead of the one `swift build` made.
    public static func start(_ arguments: [String], environment: [String: String] = [:], launcher: [String] = [],
                             executable: String? = nil, logName: String) throws -> ChildProcess {
        let path = executable ?? path
        let merged = try merged(environment, path: path)
        if launcher.isEmpty { return try ChildProcess(path, arguments, environment: merged, logName: logName) }
        return try ChildProcess("/usr/bin/env", launcher + [path] + arguments, environment: merged, logName: logName)
    }

    /// Runs `redial <arguments>` to completion; returns exit status and combined output.
    public static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        try await ChildProcess.run(path, arguments, environment: try merged(environment, path: path))
    }

    /// This process's environment with `environment` over it, once the binary is known to exist.
    private static func merged(_ environment: [String: String], path: String) throws -> [String: String] {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw SetupError("\(path) is missing: run `swift build` (make test does) before the tests")
        }
        return ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    }
}
