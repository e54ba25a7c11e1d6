import Histogram

/// The histograms of the latency scenario and the hiccup meter: microseconds, up to 60 s, three
/// significant digits.
typealias LatencyHistogram = Histogram<UInt64>

extension LatencyHistogram {
    private static let limitMicros: UInt64 = 60_000_000

    static func microseconds() -> LatencyHistogram {
        LatencyHistogram(highestTrackableValue: limitMicros, numberOfSignificantValueDigits: .three)
    }

    /// Records a span, clamped to the 60 s the histogram tracks.
    mutating func record(micros: UInt64) {
        _ = record(Swift.min(micros, Self.limitMicros))
    }
}

/// Percentiles of one latency histogram, in milliseconds.
struct Percentiles {
    let p50: Double
    let p99: Double
    let p999: Double
    let max: Double

    init(_ histogram: LatencyHistogram) {
        p50 = Double(histogram.valueAtPercentile(50)) / 1000
        p99 = Double(histogram.valueAtPercentile(99)) / 1000
        p999 = Double(histogram.valueAtPercentile(99.9)) / 1000
        max = Double(histogram.max) / 1000
    }
}
