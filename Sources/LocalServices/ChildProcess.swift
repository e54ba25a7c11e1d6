import Foundation

/// A process a test starts and must stop: killed on `stop()` and, as a safety net, on deinit,
/// so no test leaves a server behind.
public final class ChildProcess: @unchecked Sendable {
    // @unchecked: `process` is only read after init; Foundation's Process is thread-safe for
    // terminate/isRunning/processIdentifier.
    public let process: Process
    public let logFile: URL

    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                logName: String) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let logs = LocalHost.repositoryRoot.appendingPathComponent(".run/test-logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        logFile = logs.appendingPathComponent("\(logName).log")
        guard FileManager.default.createFile(atPath: logFile.path, contents: nil) else {
            throw SetupError("cannot create \(logFile.path)")
        }
        let handle = try FileHandle(forWritingTo: logFile)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    /// Runs a command to completion; its exit status and combined output.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                           timeout: Duration = .seconds(60)) async throws -> (status: Int32, output: String) {
        let name = URL(fileURLWithPath: executable).lastPathComponent
        let process = try ChildProcess(executable, arguments, environment: environment, logName: "\(name)-\(UInt32.random(in: 0...UInt32.max))")
        guard let status = await process.waitForExit(timeout: timeout) else {
            process.stop()
            throw SetupError("\(name) \(arguments.joined(separator: " ")) did not finish within \(timeout)")
        }
        return (status, process.log)
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// Sends a signal (SIGKILL, SIGTERM, SIGSTOP, SIGCONT).
    public func signal(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Kills the process and waits until it is gone. A process that outlives another signal by
    /// `grace` (SIPp ignores SIGTERM) is killed: a stop never waits for ever.
    public func stop(signal: Int32 = SIGKILL, grace: Duration = .seconds(15)) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, signal)
        let deadline = ContinuousClock.now + grace
        while signal != SIGKILL && process.isRunning && ContinuousClock.now < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Waits for the process to exit by itself, up to `timeout`; returns its status, or nil.
    public func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return process.isRunning ? nil : process.terminationStatus
    }

    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// Polls `condition` until it holds or `timeout` passes; for signals a service does not expose.
public func eventually(timeout: Duration = .seconds(10), every interval: Duration = .milliseconds(20),
                       _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: interval)
    }
    return try await condition()
}
