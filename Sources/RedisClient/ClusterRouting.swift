import Foundation

/// A connection to a Redis Cluster: each command goes to the master serving its key's slot,
/// on a socket per master (opened when first needed), and the cluster's redirections are
/// followed here, where they are safe to follow: a command answered `MOVED`, `ASK`, `TRYAGAIN`
/// or `CLUSTERDOWN` did not run, so it is sent again (to the master named, after `ASKING`, or
/// after a pause) and its caller sees only the final answer. A pipeline's commands keep their
/// order on each master; a keyless command (`WAIT`, `TIME`) goes with the keyed command
/// before it, so `WAIT` counts the writes it follows.
extension RedisConnection {
    /// Redirections and retries one call follows before it answers with the last error.
    static let clusterAttempts = 12

    func clusterPipeline(_ commands: [RedisCommand], blocking: Duration?, map: ClusterMap) throws(RedisError) -> [RedisValue] {
        var slots = commands.map { HashSlot.of($0) }
        var last: Int? = slots.first { $0 != nil } ?? nil
        for index in slots.indices {
            if let slot = slots[index] { last = slot } else { slots[index] = last }
        }
        var replies = [RedisValue](repeating: .null, count: commands.count)
        var pending = Array(commands.indices)
        var asking: [Int: RedisURL.Address] = [:]
        var attempt = 0
        while true {
            var again: [Int] = []
            var pause = false
            for (node, indices) in try route(pending, slots: slots, asking: asking, map: map) {
                let sent = indices.flatMap { index -> [RedisCommand] in
                    asking[index] == nil ? [commands[index]] : [.asking, commands[index]]
                }
                let answers: [RedisValue]
                do {
                    answers = try onNode(node, blocking: blocking) { context throws(RedisError) in try exchange(sent, on: context) }
                } catch where error.code == .connectionFailed && attempt < Self.clusterAttempts {
                    // Nothing was sent: the master may be gone, and its replica about to take over.
                    map.markStale()
                    again += indices
                    pause = true
                    continue
                }
                var position = 0
                for index in indices {
                    if asking[index] != nil { position += 1 }  // ASKING's +OK
                    replies[index] = answers[position]
                    position += 1
                }
                for index in indices {
                    if let redirection = ClusterRedirection(replies[index], from: node) {
                        if redirection.ask {
                            asking[index] = redirection.node
                        } else {
                            asking[index] = nil
                            map.learn(slot: redirection.slot, node: redirection.node)
                        }
                        again.append(index)
                    } else if case .error(let message) = replies[index], message.hasPrefix("TRYAGAIN") || message.hasPrefix("CLUSTERDOWN") {
                        // A slot half migrated (keys on both sides) or a cluster electing a new master.
                        if message.hasPrefix("CLUSTERDOWN") { map.markStale() }
                        asking[index] = nil
                        again.append(index)
                        pause = true
                    }
                }
            }
            attempt += 1
            if again.isEmpty || attempt > Self.clusterAttempts {
                for index in again {
                    let slot = slots[index].map(String.init) ?? "any"
                    if case .null = replies[index] {
                        throw RedisError(.connectionFailed, "no master of \(configuration.url) for slot \(slot) answered in \(attempt) attempts")
                    }
                    if let redirection = ClusterRedirection(replies[index], from: RedisURL.Address(host: "", port: 0)) {
                        // Still sent on after every attempt: a slot on the move; worth retrying later.
                        replies[index] = .error("TRYAGAIN slot \(slot) still redirected to \(redirection.node) after \(attempt) attempts (a migration under way)")
                    }
                }
                return replies
            }
            pending = again.sorted()
            if pause { Thread.sleep(forTimeInterval: 0.01 * Double(min(attempt, 10))) }
        }
    }

    /// The commands grouped by the master each goes to, in the order first met.
    private func route(_ indices: [Int], slots: [Int?], asking: [Int: RedisURL.Address], map: ClusterMap) throws(RedisError)
        -> [(RedisURL.Address, [Int])] {
        var groups: [(RedisURL.Address, [Int])] = []
        for index in indices {
            let node: RedisURL.Address
            if let asked = asking[index] { node = asked } else { node = try map.node(for: slots[index], timeout: configuration.connectTimeout) }
            if let group = groups.firstIndex(where: { $0.0 == node }) {
                groups[group].1.append(index)
            } else {
                groups.append((node, [index]))
            }
        }
        return groups
    }

    /// Runs `body` on this connection's socket to `node`; a transport failure drops the socket
    /// and marks the map stale (the node may have failed over).
    private func onNode<T>(_ node: RedisURL.Address, blocking: Duration?, _ body: (HiredisContext) throws(RedisError) -> T)
        throws(RedisError) -> T {
        let context = try nodeContext(node)
        if let blocking { context.setTimeout(blocking + configuration.commandTimeout) }
        defer { if blocking != nil { context.setTimeout(configuration.commandTimeout) } }
        do {
            return try body(context)
        } catch {
            nodeContexts[node] = nil
            clusterMap?.markStale()
            throw error
        }
    }

    func nodeContext(_ node: RedisURL.Address) throws(RedisError) -> HiredisContext {
        if let context = nodeContexts[node], context.isUsable { return context }
        nodeContexts[node] = nil
        let fresh = try HiredisContext(host: node.host, port: node.port, timeout: configuration.connectTimeout)
        fresh.setTimeout(configuration.commandTimeout)
        let url = configuration.url
        if let password = url.password {
            try Self.handshake(fresh, url.username.map { ["AUTH", $0, password] } ?? ["AUTH", password], url)
        }
        nodeContexts[node] = fresh
        return fresh
    }

    /// Sends `arguments` to every master of the cluster (or to the one server), for what each
    /// node answers for itself: its configuration, `FLUSHALL`, `INFO`.
    public func sendToEachServer(_ arguments: [any RedisArgument]) throws(RedisError) -> [(server: String, reply: RedisValue)] {
        guard let clusterMap else {
            return [(configuration.url.description, try send(arguments))]
        }
        if clusterMap.masters.isEmpty { try clusterMap.refresh(timeout: configuration.connectTimeout) }
        var answers: [(server: String, reply: RedisValue)] = []
        for node in clusterMap.masters {
            let reply = try onNode(node, blocking: nil) { context throws(RedisError) in try exchange([.command(arguments)], on: context)[0] }
            answers.append((node.description, try reply.get()))
        }
        return answers
    }
}
