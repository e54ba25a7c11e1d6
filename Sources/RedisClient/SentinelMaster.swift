import Synchronization

/// Where the master of a `redis-sentinel://` URL is, shared by every connection of the process
/// to that URL. The sentinels are asked (in order, the first that knows the master answers) when
/// a connection opens and no master is known; the answer is kept until something says it moved:
/// a connection that could not reach it, one whose `ROLE` is not master, a `READONLY` reply, or
/// the sentinels' `+switch-master` (watched on a connection of its own). Each such change moves
/// `epoch`; a connection opened at an older epoch is closed before its next command, so every
/// connection follows the failover, not only the one that met it.
public final class SentinelMaster: Sendable {
    let url: RedisURL
    private let state = Mutex(State())

    struct State {
        var epoch = 0
        var master: RedisURL.Address?
        var watching = false
    }

    init(url: RedisURL) {
        self.url = url
    }

    private static let registry = Mutex<[RedisURL: SentinelMaster]>([:])

    /// The process's one tracker for this URL's master.
    static func shared(_ url: RedisURL) -> SentinelMaster {
        registry.withLock { trackers in
            if let tracker = trackers[url] { return tracker }
            let tracker = SentinelMaster(url: url)
            trackers[url] = tracker
            return tracker
        }
    }

    /// How many times the master was seen to move (or to be unreachable) in this process.
    public var epoch: Int { state.withLock { $0.epoch } }

    /// The master now known, if any.
    public var master: RedisURL.Address? { state.withLock { $0.master } }

    /// The master's address and the epoch it belongs to; asks the sentinels when none is known.
    /// Blocks the calling thread (a connection's own) for the sentinels' round trips.
    func resolve(timeout: Duration) throws(RedisError) -> (RedisURL.Address, epoch: Int) {
        startWatching()
        if case let (master?, epoch) = state.withLock({ ($0.master, $0.epoch) }) { return (master, epoch) }
        let epoch = self.epoch
        var problems: [String] = []
        for sentinel in url.sentinels {
            do {
                let context = try HiredisContext(host: sentinel.host, port: sentinel.port, timeout: timeout)
                let reply = try context.command(RedisConnection.encode([.command(["SENTINEL", "GET-MASTER-ADDR-BY-NAME", url.masterName ?? ""])]))
                guard let parts = reply.array, parts.count == 2, let host = parts[0].string, let port = parts[1].string.flatMap({ Int($0) }) else {
                    problems.append("\(sentinel) does not know '\(url.masterName ?? "")' (\(reply))")
                    continue
                }
                let master = RedisURL.Address(host: host, port: port)
                state.withLock { state in
                    if state.epoch == epoch { state.master = master }
                }
                return (master, epoch)
            } catch {
                problems.append("\(sentinel): \(error.message)")
            }
        }
        throw RedisError(.connectionFailed, "no sentinel of \(url) named the master: \(problems.joined(separator: "; "))")
    }

    /// The master at `epoch` failed a connection (unreachable, not master, read-only): forget it,
    /// so the next connection asks the sentinels, and move every connection off it.
    func moved(from epoch: Int) {
        state.withLock { state in
            guard state.epoch == epoch else { return }
            state.epoch += 1
            state.master = nil
        }
    }

    /// Subscribes to the sentinels' `+switch-master` (one sentinel at a time, the next when it
    /// fails), for the rest of the process. Between subscriptions (a read timeout ends each one:
    /// hiredis cannot resume a timed-out read) it compares the sentinels' master with the known one.
    private func startWatching() {
        guard state.withLock({ state in
            defer { state.watching = true }
            return !state.watching
        }) else { return }
        Task.detached { [self] in await watch() }
    }

    private func watch() async {
        var failures = 0
        var index = 0
        while true {
            let sentinel = url.sentinels[index % url.sentinels.count]
            let connection = RedisConnection(configuration: RedisConfiguration(
                url: RedisURL(host: sentinel.host, port: sentinel.port), connectTimeout: .seconds(1), commandTimeout: .seconds(2)))
            do {
                let known = master
                let named = try await connection.send("SENTINEL", "GET-MASTER-ADDR-BY-NAME", url.masterName ?? "").array
                if let known, let named, named.count == 2, named[0].string != known.host || named[1].string != String(known.port) {
                    moved(from: epoch)
                }
                try await connection.send("SUBSCRIBE", "+switch-master")
                failures = 0
                while let message = try await connection.nextPush(within: .seconds(10)) {
                    // ["message", "+switch-master", "<name> <old ip> <old port> <new ip> <new port>"]
                    let words = message.array?.last?.string?.split(separator: " ") ?? []
                    if words.count == 5, words[0] == url.masterName ?? "" {
                        state.withLock { state in
                            state.epoch += 1
                            state.master = Int(words[4]).map { RedisURL.Address(host: String(words[3]), port: $0) }
                        }
                    }
                }
            } catch {
                failures += 1
                index += 1
                try? await Task.sleep(for: .milliseconds(200) * min(failures, 25))
            }
            await connection.close()
        }
    }
}
