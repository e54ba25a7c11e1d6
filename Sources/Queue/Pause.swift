/// Exponential pause between retries of a maintenance step while Redis is unreachable:
/// 50 ms doubling to 2 s, reset by a success.
struct Pause {
    private var next: Duration = .milliseconds(50)

    mutating func wait() async {
        try? await Task.sleep(for: next)  // cancellation ends the wait early, as it should
        next = min(next * 2, .seconds(2))
    }

    mutating func reset() { next = .milliseconds(50) }
}
