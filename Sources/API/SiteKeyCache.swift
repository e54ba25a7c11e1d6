import Domain
import Logging
import PostgresClient
import ServiceLifecycle
import Synchronization

/// The site by its key, kept up to `lifetime` so intake does not read and decode it (managers
/// opened, JSON columns decoded) on every request. Kept only while this process LISTENs on
/// `redial_sites` (migration 0019): a change to a site (a revoked or rotated key, a deactivated
/// site, its balance or settings) drops that site here as soon as it commits, so a revocation
/// takes effect as it would without the cache. Not listening (not started, or the connection
/// lost, when notifications may be missed), every request reads the site. Unknown keys are not
/// kept: a caller guessing keys cannot fill the memory.
public final class SiteKeyCache: Service, Sendable {
    /// The channel migration 0019's trigger notifies, with the changed site's id.
    public static let channel = "redial_sites"

    let sites: SiteStore
    let lifetime: Duration
    let capacity: Int
    private let logger: Logger
    private let state = Mutex(State())

    struct Entry {
        let site: Site
        let until: ContinuousClock.Instant
    }

    struct State {
        var entries: [String: Entry] = [:]
        var listening = false
        /// Moves on every change heard of: a read that began before it is not kept.
        var generation = 0
    }

    public init(sites: SiteStore, logger: Logger, lifetime: Duration = .seconds(1), capacity: Int = 10_000) {
        self.sites = sites
        self.logger = logger
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// Whether sites are kept now: true while this process hears of site changes.
    public var isListening: Bool { state.withLock { $0.listening } }

    public func find(key: String) async throws -> Site? {
        let now = ContinuousClock.now
        let (cached, generation) = state.withLock { state -> (Site?, Int?) in
            guard state.listening else { return (nil, nil) }
            if let entry = state.entries[key], entry.until > now { return (entry.site, nil) }
            return (nil, state.generation)
        }
        if let cached { return cached }
        let site = try await sites.find(key: key)
        if let site, let generation {
            state.withLock { state in
                guard state.listening, state.generation == generation else { return }
                if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
                state.entries[key] = Entry(site: site, until: now + lifetime)
            }
        }
        return site
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await NotificationListener(configuration: self.sites.database.configuration, channel: Self.channel).run { event in
                self.state.withLock { state in
                    state.generation += 1
                    switch event {
                    case .listening:
                        state.listening = true
                    case .notified(let ids):
                        let changed = Set(ids)
                        state.entries = state.entries.filter { !changed.contains($0.value.site.id) }
                    case .lost:
                        state.listening = false
                        state.entries.removeAll()
                    }
                }
                if case .lost(let error, let failures) = event, failures == 1 {
                    self.logger.warning("site keys: not hearing of site changes (\(error)); every request reads its site meanwhile")
                }
            }
        }
    }
}
