/// A probe's up/down state with hysteresis, as Kamailio's dispatcher keeps a gateway's: down
/// after `downAfter` failures in a row, up again after `upAfter` successes in a row. It starts
/// up, so a watchdog that just started does not raise a storm before it has looked twice.
struct ProbeState: Sendable, Equatable {
    let downAfter: Int
    let upAfter: Int
    private(set) var isUp = true
    private var streak = 0

    init(downAfter: Int, upAfter: Int) {
        self.downAfter = downAfter
        self.upAfter = upAfter
    }

    /// Counts one result; returns true when the state changed.
    mutating func record(_ succeeded: Bool) -> Bool {
        if succeeded == isUp {
            streak = 0
            return false
        }
        streak += 1
        guard streak >= (isUp ? downAfter : upAfter) else { return false }
        isUp.toggle()
        streak = 0
        return true
    }
}
