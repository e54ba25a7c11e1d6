import Synchronization

/// Which master serves each slot of a `redis-cluster://` URL, shared by every connection of the
/// process to that URL. Read with `CLUSTER SLOTS` from a node that answers (the masters known,
/// then the URL's seeds); a `MOVED` reply teaches one slot at once and marks the whole map for
/// a re-read before the next command (a `MOVED` usually means a failover or a reshard, which
/// moves more than one slot). A node that cannot be reached marks it too: its replica may have
/// been promoted.
public final class ClusterMap: Sendable {
    let url: RedisURL
    private let state = Mutex(State())

    struct State {
        /// Index into `nodes` of each slot's master, -1 for a slot no master serves.
        var owners = [Int16](repeating: -1, count: HashSlot.count)
        var nodes: [RedisURL.Address] = []
        /// Masters first, then the replicas: whom to ask for the map.
        var known: [RedisURL.Address] = []
        var stale = true
        var readAt: ContinuousClock.Instant?
    }

    init(url: RedisURL) {
        self.url = url
    }

    private static let registry = Mutex<[RedisURL: ClusterMap]>([:])

    /// The process's one map for this URL.
    static func shared(_ url: RedisURL) -> ClusterMap {
        registry.withLock { maps in
            if let map = maps[url] { return map }
            let map = ClusterMap(url: url)
            maps[url] = map
            return map
        }
    }

    /// The masters serving at least one slot, as last read.
    public var masters: [RedisURL.Address] { state.withLock { $0.nodes } }

    /// The master of `slot`; with no slot (a keyless command alone), the first master.
    /// Re-reads the map first when it is stale. Blocks the calling thread (a connection's own).
    func node(for slot: Int?, timeout: Duration) throws(RedisError) -> RedisURL.Address {
        if state.withLock({ $0.stale }) { try refresh(timeout: timeout) }
        let found: RedisURL.Address? = state.withLock { state in
            guard let slot else { return state.nodes.first }
            let owner = Int(state.owners[slot])
            return owner >= 0 ? state.nodes[owner] : nil
        }
        if let found { return found }
        throw RedisError(.server, "CLUSTERDOWN no master of \(url) serves slot \(slot.map(String.init) ?? "any")")
    }

    /// `MOVED slot host:port`: that master serves the slot now; the rest of the map is re-read
    /// before the next command.
    func learn(slot: Int, node: RedisURL.Address) {
        state.withLock { state in
            let index = state.nodes.firstIndex(of: node) ?? {
                state.nodes.append(node)
                return state.nodes.count - 1
            }()
            state.owners[slot] = Int16(index)
            state.stale = true
        }
    }

    /// Something suggests the map is out of date (a node unreachable, the cluster down).
    func markStale() {
        state.withLock { $0.stale = true }
    }

    /// Reads the map from the first node that answers. A map read within the last 100 ms is
    /// kept: after a failover every connection of the process meets it at once, and one
    /// read serves them all.
    func refresh(timeout: Duration) throws(RedisError) {
        let (candidates, fresh) = state.withLock { state -> ([RedisURL.Address], Bool) in
            let fresh = state.readAt.map { ContinuousClock.now - $0 < .milliseconds(100) } ?? false
            return (state.known + url.clusterSeeds.filter { !state.known.contains($0) }, fresh)
        }
        if fresh, !state.withLock({ $0.nodes.isEmpty }) {
            state.withLock { $0.stale = false }
            return
        }
        var problems: [String] = []
        for node in candidates {
            do throws(RedisError) {
                let context = try HiredisContext(host: node.host, port: node.port, timeout: timeout)
                context.setTimeout(timeout)
                if let password = url.password {
                    let auth = url.username.map { ["AUTH", $0, password] } ?? ["AUTH", password]
                    if case .error(let message) = try context.command(RedisConnection.encode([.command(auth)])) {
                        throw RedisError(.refused, "AUTH refused: \(message)")
                    }
                }
                let reply = try context.command(RedisConnection.encode([.command(["CLUSTER", "SLOTS"])]))
                if case .error(let message) = reply { throw RedisError(.server, message) }
                let read = try Self.parse(reply, askedOf: node)
                guard !read.nodes.isEmpty else { throw RedisError(.unexpectedReply, "CLUSTER SLOTS names no master (\(reply))") }
                state.withLock { state in
                    state.owners = read.owners
                    state.nodes = read.nodes
                    state.known = read.nodes + read.replicas.filter { !read.nodes.contains($0) }
                    state.stale = false
                    state.readAt = .now
                }
                return
            } catch {
                problems.append("\(node): \(error.message)")
            }
        }
        throw RedisError(.connectionFailed, "no node of \(url) gave its slot map: \(problems.joined(separator: "; "))")
    }

    /// `CLUSTER SLOTS`: `[[start, end, [host, port, id…], replica…], …]`. An empty host means
    /// the node we asked.
    static func parse(_ reply: RedisValue, askedOf asked: RedisURL.Address) throws(RedisError)
        -> (owners: [Int16], nodes: [RedisURL.Address], replicas: [RedisURL.Address]) {
        var owners = [Int16](repeating: -1, count: HashSlot.count)
        var nodes: [RedisURL.Address] = []
        var replicas: [RedisURL.Address] = []
        func address(_ value: RedisValue) throws(RedisError) -> RedisURL.Address {
            guard let parts = value.array, parts.count >= 2, let host = parts[0].string, let port = parts[1].int else {
                throw RedisError(.unexpectedReply, "CLUSTER SLOTS named a node as \(value)")
            }
            return RedisURL.Address(host: host.isEmpty || host == "?" ? asked.host : host, port: port)
        }
        for range in reply.array ?? [] {
            guard let parts = range.array, parts.count >= 3, let start = parts[0].int, let end = parts[1].int,
                  0 <= start, start <= end, end < HashSlot.count else {
                throw RedisError(.unexpectedReply, "CLUSTER SLOTS answered a range as \(range)")
            }
            let master = try address(parts[2])
            let index = nodes.firstIndex(of: master) ?? {
                nodes.append(master)
                return nodes.count - 1
            }()
            for slot in start...end { owners[slot] = Int16(index) }
            for part in parts.dropFirst(3) { replicas.append(try address(part)) }
        }
        return (owners, nodes, replicas)
    }
}

/// A cluster's redirection: `MOVED slot host:port` or `ASK slot host:port`.
struct ClusterRedirection: Equatable {
    var ask: Bool
    var slot: Int
    var node: RedisURL.Address

    init?(_ reply: RedisValue, from current: RedisURL.Address) {
        guard case .error(let message) = reply else { return nil }
        let words = message.split(separator: " ")
        guard words.count == 3, words[0] == "MOVED" || words[0] == "ASK", let slot = Int(words[1]),
              let colon = words[2].lastIndex(of: ":"), let port = Int(words[2][words[2].index(after: colon)...]) else { return nil }
        let host = String(words[2][..<colon])
        self.ask = words[0] == "ASK"
        self.slot = slot
        self.node = RedisURL.Address(host: host.isEmpty ? current.host : host, port: port)
    }
}
