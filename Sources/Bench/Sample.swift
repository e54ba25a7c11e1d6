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

    static func format(_ value: Double) -> String {
        if value >= 1000 { return String(Int(value.rounded())) }
        if value >= 10 { return String(Double(Int(value * 10)) / 10) }
        return String(Double(Int(value * 1000)) / 1000)
    }
}
