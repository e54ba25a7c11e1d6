import Dispatch
import Foundation
import Logging
import Synchronization

/// `redial up`'s process supervision: starts each component as a child `redial` process,
/// restarts one that dies (backing off 1 s doubling to 30 s), and on SIGTERM/SIGINT stops them
/// all gracefully (SIGTERM, then SIGKILL after the grace period).
final class Supervisor: Sendable {
    struct Component: Sendable {
        let name: String
        let arguments: [String]
    }

    private let executable: String
    private let components: [Component]
    private let grace: Duration
    private let logger: Logger
    private let running = Mutex<[String: Process]>([:])
    private let stopping = Mutex(false)
    /// A component's executable when it is not `executable` (moved to a promoted build).
    private let executables = Mutex<[String: String]>([:])
    /// Components stopped on purpose to start again on another executable at once.
    private let replacing = Mutex<Set<String>>([])

    init(executable: String, components: [Component], grace: Duration, logger: Logger) {
        self.executable = executable
        self.components = components
        self.grace = grace
        self.logger = logger
    }

    /// Runs until a stop signal, then returns once every child has exited.
    func run() async {
        let signals = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { [weak self] in self?.stop() }
            source.resume()
            return source
        }
        await withTaskGroup(of: Void.self) { group in
            for component in components { group.addTask { await self.keep(component) } }
        }
        signals.forEach { $0.cancel() }
    }

    private var isStopping: Bool { stopping.withLock { $0 } }

    /// Keeps one component running until the supervisor stops.
    private func keep(_ component: Component) async {
        var backoff: Duration = .seconds(1)
        while !isStopping {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executables.withLock { $0[component.name] } ?? executable)
            process.arguments = component.arguments
            do {
                try process.run()
            } catch {
                logger.error("\(component.name): cannot start: \(error)")
                try? await Task.sleep(for: backoff)
                continue
            }
            running.withLock { $0[component.name] = process }
            logger.info("\(component.name) started (pid \(process.processIdentifier))")
            let started = ContinuousClock.now
            while process.isRunning { try? await Task.sleep(for: .milliseconds(100)) }
            running.withLock { _ = $0.removeValue(forKey: component.name) }
            if isStopping { break }
            if replacing.withLock({ $0.remove(component.name) }) != nil {
                logger.notice("\(component.name) drained; starting it on \(executables.withLock { $0[component.name] } ?? executable)")
                backoff = .seconds(1)
                continue
            }
            // A component that ran a while before dying gets a fresh, short back-off.
            if ContinuousClock.now - started > .seconds(60) { backoff = .seconds(1) }
            logger.warning("\(component.name) exited with status \(process.terminationStatus); restarting in \(backoff)")
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(30))
        }
    }

    /// Moves the named components to `binary` one at a time: each is stopped with SIGTERM (a
    /// worker drains, handing back what outlives its grace), started again on `binary`, and must
    /// be `ready` (for workers: serving again, by their heartbeats) and stay up for `settle`
    /// before the next one goes. Returns the names moved.
    func replace(_ names: [String], with binary: String, settle: Duration, ready: @Sendable () async -> Bool) async -> [String] {
        var moved: [String] = []
        for name in names where !isStopping {
            guard executables.withLock({ $0[name] ?? executable }) != binary else { continue }
            let old = running.withLock { $0[name] }
            executables.withLock { $0[name] = binary }
            if let old, old.isRunning {
                replacing.withLock { _ = $0.insert(name) }
                kill(old.processIdentifier, SIGTERM)
            }
            // Up on the new build, and still up a moment later; a build that will not stay up
            // stops the roll, leaving the rest on the old one.
            let deadline = ContinuousClock.now + .seconds(120)
            while !isStopping {
                guard ContinuousClock.now < deadline else {
                    logger.error("\(name) did not stay up on \(binary) within 120 s: the roll stops here")
                    return moved
                }
                try? await Task.sleep(for: .milliseconds(100))
                guard let current = running.withLock({ $0[name] }), current !== old, current.isRunning, await ready() else { continue }
                try? await Task.sleep(for: settle)
                if current.isRunning {
                    logger.notice("\(name) serving on \(binary)")
                    break
                }
            }
            moved.append(name)
        }
        return moved
    }

    func stop() {
        let first = stopping.withLock { stopping in
            defer { stopping = true }
            return !stopping
        }
        guard first else { return }
        let children = running.withLock { $0 }
        logger.info("stopping \(children.count) components (grace \(grace))")
        for process in children.values where process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let grace = self.grace
        Task {
            try? await Task.sleep(for: grace)
            for process in children.values where process.isRunning {
                self.logger.warning("pid \(process.processIdentifier) did not stop within \(grace); killing it")
                kill(process.processIdentifier, SIGKILL)
            }
        }
    }
}
