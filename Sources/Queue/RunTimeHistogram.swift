/// Run times of completed jobs (claim to handler's end), counted in the queue's stats hash as
/// `run_ms_le_<bound>` fields by `completeJobs`. Cumulative counters, so a quantile over any
/// window comes from two snapshots of the hash: the release gate's p99 per channel.
public enum RunTimeHistogram {
    static let fieldPrefix = "run_ms_le_"

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

    /// The stats field a run of `ran` counts in.
    static func field(_ ran: Duration) -> String {
        let milliseconds = Double(ran.components.seconds) * 1000 + Double(ran.components.attoseconds) / 1e15
        var low = 0, high = bounds.count
        while low < high {  // the first bound ≥ the run time
            let middle = (low + high) / 2
            if Double(bounds[middle]) < milliseconds { low = middle + 1 } else { high = middle }
        }
        return fieldPrefix + (low < bounds.count ? String(bounds[low]) : "inf")
    }

    /// The runs counted in `counters` as Prometheus reads a histogram: for each bound that has
    /// runs, how many ran at most that long (seconds), the last `+Inf` (every run).
    public static func cumulative(_ counters: [String: Int]) -> [(le: String, count: Int)] {
        var buckets: [(bound: Double, count: Int)] = []
        for (name, count) in counters where name.hasPrefix(fieldPrefix) && count > 0 {
            let bound = name.dropFirst(fieldPrefix.count)
            buckets.append((bound == "inf" ? .infinity : (Double(bound) ?? .infinity) / 1000, count))
        }
        var total = 0
        var result: [(le: String, count: Int)] = []
        for bucket in buckets.sorted(by: { $0.bound < $1.bound }) where bucket.bound.isFinite {
            total += bucket.count
            result.append((String(bucket.bound), total))
        }
        return result + [("+Inf", buckets.reduce(0) { $0 + $1.count })]
    }

    /// The `quantile` (0…1) of the runs counted in `counters` (a stats hash, or the difference of
    /// two), as the bound of the bucket it falls in, in seconds; and how many runs there were.
    /// nil when there were none; infinity when it falls beyond an hour.
    public static func quantile(_ quantile: Double, of counters: [String: Int]) -> (seconds: Double?, samples: Int) {
        var buckets: [(bound: Double, count: Int)] = []
        for (name, count) in counters where name.hasPrefix(fieldPrefix) && count > 0 {
            let bound = name.dropFirst(fieldPrefix.count)
            buckets.append((bound == "inf" ? .infinity : (Double(bound) ?? .infinity) / 1000, count))
        }
        let samples = buckets.reduce(0) { $0 + $1.count }
        guard samples > 0 else { return (nil, 0) }
        let rank = quantile * Double(samples)
        var seen = 0
        for bucket in buckets.sorted(by: { $0.bound < $1.bound }) {
            seen += bucket.count
            if Double(seen) >= rank { return (bucket.bound, samples) }
        }
        return (buckets.map(\.bound).max(), samples)
    }
}
