import Foundation
import Providers

/// A test call through the carrier to its test line (billed to nobody), followed until it ends:
/// up when it is answered. It sees what OPTIONS and the API's health cannot: a carrier that
/// takes calls and connects none. Being a telephony probe, its down state pauses dialing, and
/// it keeps calling while dialing is paused, so it is also what finds the carrier back.
struct SyntheticCallProbe: Probe {
    let telephony: any TelephonyProvider
    let testNumber: String
    /// How often the call's state is asked while it rings.
    let pollEvery: Duration

    func check(timeout: Duration) async -> ProbeResult {
        let started = ContinuousClock.now
        let call: ProviderCall
        do {
            // A fresh key each time: every probe is a new call, and none is ever a visitor's.
            call = try await telephony.originate(managers: [testNumber], visitor: testNumber,
                                                 idempotencyKey: "watchdog-test-call-\(UUID().uuidString)", callbackURL: "")
        } catch {
            return .failure("test call to \(testNumber) not placed: \(error)")
        }
        var current = call
        while !current.finished {
            guard ContinuousClock.now - started < timeout else {
                return .failure("test call \(call.callID) still not ended after \(timeout)")
            }
            try? await Task.sleep(for: pollEvery)
            if Task.isCancelled { return .failure("cancelled") }
            do {
                current = try await telephony.call(id: call.callID)
            } catch {
                return .failure("test call \(call.callID): \(error)")
            }
        }
        guard current.outcome == .answered else {
            return .failure("test call \(call.callID) ended \(current.outcome?.rawValue ?? "without an outcome")")
        }
        return .success("test call \(call.callID) answered")
    }
}
