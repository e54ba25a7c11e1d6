/// Run times of completed jobs (claim to handler's end), counted by job type in the queue's stats
/// hash as `run_ms:<type>:<bound>` fields by `completeJobs`. By type, because a queue's mix moves
/// with its traffic (a channel whose calls were answered more often uploads more recordings,
/// seconds each): a quantile over the mix measures the mix, not the build. Cumulative counters,
/// so a quantile over any window comes from two snapshots of the hash: the release gate's p99.
public enum RunTimeHistogram {
    static let fieldPrefix = "run_ms:"

    /// Upper bounds in milliseconds, each about 25 % above the last, from 1 ms to an hour: a
    /// quantile read from them is at most one step (25 %) above the true one.
    static let bounds: [Int] = {
        var bounds: [Int] = []
        var bound = 1.0
        while bound < 3_600_000 {
            let rounded = Int(bound.rounded(.up))
            if bounds.last != rounded { bounds.append(rounded) }
            bound *= 1.25
        }
        return bounds + [3_600_000]
    }()

    /// The stats field a run of a `type` job that took `ran` counts in.
    static func field(type: String, _ ran: Duration) -> String {
        let milliseconds = Double(ran.components.seconds) * 1000 + Double(ran.components.attoseconds) / 1e15
        var low = 0, high = bounds.count
        while low < high {  // the first bound ≥ the run time
            let middle = (low + high) / 2
            if Double(bounds[middle]) < milliseconds { low = middle + 1 } else { high = middle }
        }
        return fieldPrefix + type + ":" + (low < bounds.count ? String(bounds[low]) : "inf")
    }

    /// The runs counted in `counters` (a stats hash, or a sum or difference of them), by job type:
    /// each bucket's upper bound in seconds (infinity beyond an hour) and its runs.
    public static func runs(in counters: [String: Int]) -> [String: [Double: Int]] {
        var runs: [String: [Double: Int]] = [:]
        for (name, count) in counters where name.hasPrefix(fieldPrefix) && count > 0 {
            // The bound follows the last colon; a type may hold colons of its own.
            guard let colon = name.lastIndex(of: ":"), colon >= name.index(name.startIndex, offsetBy: fieldPrefix.count) else { continue }
            let type = String(name[name.index(name.startIndex, offsetBy: fieldPrefix.count)..<colon])
            let bound = name[name.index(after: colon)...]
            let seconds = bound == "inf" ? Double.infinity : (Double(bound) ?? .infinity) / 1000
            runs[type, default: [:]][seconds, default: 0] += count
        }
        return runs
    }

    /// One type's runs as Prometheus reads a histogram: for each bound that has runs, how many
    /// ran at most that long (seconds), the last `+Inf` (every run).
    public static func cumulative(_ buckets: [Double: Int]) -> [(le: String, count: Int)] {
        var total = 0
        var result: [(le: String, count: Int)] = []
        for (bound, count) in buckets.sorted(by: { $0.key < $1.key }) where bound.isFinite {
            total += count
            result.append((String(bound), total))
        }
        return result + [("+Inf", buckets.values.reduce(0, +))]
    }

    /// The `quantile` (0…1) of one type's runs, as the bound of the bucket it falls in, in
    /// seconds; and how many runs there were. nil when there were none; infinity when it falls
    /// beyond an hour.
    public static func quantile(_ quantile: Double, of buckets: [Double: Int]) -> (seconds: Double?, samples: Int) {
        let samples = buckets.values.reduce(0, +)
        guard samples > 0 else { return (nil, 0) }
        let rank = quantile * Double(samples)
        var seen = 0
        for (bound, count) in buckets.sorted(by: { $0.key < $1.key }) {
            seen += count
            if Double(seen) >= rank { return (bound, samples) }
        }
        return (buckets.keys.max(), samples)
    }
}
