/// Repeated measurements of one figure: reported as median with min–max.
struct Sample: Encodable {
    let median: Double
    let min: Double
    let max: Double
    let runs: [Double]

    init(_ runs: [Double]) {
        precondition(!runs.isEmpty, "a sample needs at least one run")
        let sorted = runs.sorted()
        median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        min = sorted.first!
        max = sorted.last!
        self.runs = runs
    }

    var text: String {
        runs.count == 1 ? Self.format(median) : "\(Self.format(median)) (\(Self.format(min))–\(Self.format(max)))"
    }

    /// Rounded to the nearest: a whole number from 1000 up, one decimal from 10, three below.
    static func format(_ value: Double) -> String {
        if value >= 1000 { return String(Int(value.rounded())) }
        if value >= 10 { return String((value * 10).rounded() / 10) }
        return String((value * 1000).rounded() / 1000)
    }
}
