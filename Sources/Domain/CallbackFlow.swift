import Foundation
import PostgresClient

/// The dial flow's state changes, each in one PostgreSQL transaction, with every external effect
/// recorded in the effect ledger under a key derived from the job (DESIGN.md, "Idempotency"):
/// a dial is `callback:<id>:attempt:<n>`, a debit `debit:<id>`. A replayed job finds its effect:
/// done → it is not repeated; pending → it is reconciled (the provider is asked again with the
/// same idempotency key, which returns the same call and never rings twice).
public struct CallbackFlow: Sendable {
    public let database: PostgresPool
    public let provider: any TelephonyProvider
    public let policies: OutcomePolicies
    /// Where the provider sends status webhooks.
    public let webhookURL: String
    /// A deliberately broken build for the chaos suite: originates with a fresh idempotency key
    /// each time, so a replayed dial rings again. Never in production (Settings refuses it).
    public let unsafeWithoutLedger: Bool

    public init(database: PostgresPool, provider: any TelephonyProvider, policies: OutcomePolicies, webhookURL: String,
                unsafeWithoutLedger: Bool = false) {
        self.database = database
        self.provider = provider
        self.policies = policies
        self.webhookURL = webhookURL
        self.unsafeWithoutLedger = unsafeWithoutLedger
    }

    public enum DialResult: Sendable, Equatable {
        /// Nothing to do: unknown, or already terminal.
        case nothing
        /// Outside working hours: try again at this time (status `scheduled`).
        case closedUntil(Date)
        /// The call is placed (now or by an earlier run of the same attempt).
        case dialed(attempt: Int, callID: String)
        /// The attempt ended before a call existed; what comes next is in `next`.
        case ended(attempt: Int, Next)
    }

    public enum Next: Sendable, Equatable {
        case redial(after: Duration, attempt: Int)
        case completed
        case failed(reason: String)
        /// The attempt already had its outcome: a repeated or late event changes nothing.
        case unchanged
    }

    /// Places attempt n of a callback (or finds the one already placed).
    public func dial(callbackID: String, now: Date = Date()) async throws -> DialResult {
        let prepared: Prepared = try await database.transaction { connection in
            let rows = try await connection.query("""
                SELECT c.status, c.phone, s.timezone, s.hours::text AS hours, s.balance_minutes,
                       array_to_json(s.managers)::text AS managers
                FROM callbacks c JOIN sites s ON s.id = c.site_id WHERE c.id = $1::uuid FOR UPDATE OF c
                """, [callbackID])
            guard let row = rows.first, let status = CallbackStatus(rawValue: try row.decode("status")), status.isActive else { return .nothing }
            let hours = try JSONDecoder().decode(WorkingHours.self, from: Data(try row.decode("hours", as: String.self).utf8))
            let zone = TimeZone(identifier: try row.decode("timezone")) ?? TimeZone(identifier: "UTC")!
            if !hours.isOpen(at: now, in: zone), let opening = hours.nextOpening(after: now, in: zone) {
                try await connection.query("UPDATE callbacks SET status = 'scheduled', updated_at = now() WHERE id = $1::uuid", [callbackID])
                return .closed(until: opening)
            }
            if try row.decode("balance_minutes", as: Int.self) <= 0 {
                try await connection.query("UPDATE callbacks SET status = 'failed', reason = 'no_balance', updated_at = now() WHERE id = $1::uuid",
                                           [callbackID])
                return .nothing
            }
            // Resume an attempt that has no outcome yet (a replay), or start the next one.
            let last = try await connection.query(
                "SELECT n, outcome FROM attempts WHERE callback_id = $1::uuid ORDER BY n DESC LIMIT 1", [callbackID]).first
            var attempt = 1
            if let last {
                let n: Int = try last.decode("n")
                attempt = try last.decodeIfPresent("outcome", as: String.self) == nil ? n : n + 1
            }
            try await connection.query("""
                INSERT INTO attempts (callback_id, n) VALUES ($1::uuid, $2) ON CONFLICT (callback_id, n) DO NOTHING
                """, [callbackID, attempt])
            let key = Self.dialKey(callbackID, attempt)
            var placed: String?
            if case .done(let result) = try await EffectLedger.begin(key, on: connection) { placed = result["call_id"] }
            try await connection.query("UPDATE callbacks SET status = 'dialing', updated_at = now() WHERE id = $1::uuid", [callbackID])
            return .ready(attempt: attempt, callID: placed, visitor: try row.decode("phone"),
                          managers: try JSONDecoder().decode([String].self, from: Data(try row.decode("managers", as: String.self).utf8)))
        }
        guard case .ready(let attempt, let placed, let visitor, let managers) = prepared else {
            if case .closed(let until) = prepared { return .closedUntil(until) }
            return .nothing
        }
        if let placed { return .dialed(attempt: attempt, callID: placed) }
        let key = Self.dialKey(callbackID, attempt)
        let call: ProviderCall
        do {
            let providerKey = unsafeWithoutLedger ? "\(key):\(UInt64.random(in: 0...UInt64.max))" : key
            call = try await provider.originate(managers: managers, visitor: visitor, idempotencyKey: providerKey, callbackURL: webhookURL)
        } catch {
            // No call exists: the attempt ends here, recorded like any other outcome.
            let outcome: CallOutcome = if case .invalidNumber = error { .invalidNumber } else { .networkFailure }
            try await EffectLedger(database: database).complete(key, result: ["error": "\(error)"])
            let next = try await finish(callbackID: callbackID, attempt: attempt, outcome: outcome, durationSeconds: 0)
            return .ended(attempt: attempt, next)
        }
        try await database.transaction { connection in
            try await EffectLedger.complete(key, result: ["call_id": call.callID], on: connection)
            try await connection.query("UPDATE attempts SET provider_call_id = $3 WHERE callback_id = $1::uuid AND n = $2",
                                       [callbackID, attempt, call.callID])
        }
        return .dialed(attempt: attempt, callID: call.callID)
    }

    private enum Prepared {
        case nothing
        case closed(until: Date)
        /// `callID`: the call this attempt already placed (its effect is done).
        case ready(attempt: Int, callID: String?, visitor: String, managers: [String])
    }

    /// Records the outcome of the attempt that placed `callID` and moves the callback on.
    /// Idempotent and order-tolerant: an attempt's outcome is set once; a repeated or late event
    /// answers `.unchanged`.
    public func recordOutcome(callID: String, outcome: CallOutcome, durationSeconds: Int,
                              recordingURL: String?) async throws -> (callbackID: String, Next)? {
        let rows = try await database.query(
            "SELECT callback_id::text AS callback_id, n FROM attempts WHERE provider_call_id = $1", [callID])
        guard let row = rows.first else { return nil }
        let callbackID: String = try row.decode("callback_id")
        return (callbackID, try await finish(callbackID: callbackID, attempt: try row.decode("n"), outcome: outcome,
                                             durationSeconds: durationSeconds, recordingURL: recordingURL))
    }

    /// Sets attempt n's outcome (once) and decides the callback's next step in one transaction.
    func finish(callbackID: String, attempt: Int, outcome: CallOutcome, durationSeconds: Int,
                recordingURL: String? = nil) async throws -> Next {
        try await database.transaction { connection in
            let updated = try await connection.query("""
                UPDATE attempts SET outcome = $3, ended_at = now() WHERE callback_id = $1::uuid AND n = $2 AND outcome IS NULL
                RETURNING n
                """, [callbackID, attempt, outcome.rawValue])
            guard !updated.isEmpty else { return .unchanged }
            let status = try await connection.query("SELECT status FROM callbacks WHERE id = $1::uuid FOR UPDATE", [callbackID])
            guard let current = try status.first.map({ try $0.decode("status", as: String.self) }),
                  CallbackStatus(rawValue: current)?.isActive == true else { return .unchanged }
            if outcome == .answered {
                let minutes = max(1, (durationSeconds + 59) / 60)
                // The debit is an effect too: exactly once per callback, whatever replays.
                if try await EffectLedger.recordOnce("debit:\(callbackID)", result: ["minutes": String(minutes)], on: connection) {
                    try await debit(callbackID: callbackID, minutes: minutes, on: connection)
                }
                try await connection.query("""
                    UPDATE callbacks SET status = 'completed', reason = NULL, minutes_debited = $2, updated_at = now() WHERE id = $1::uuid
                    """, [callbackID, minutes])
                if let recordingURL {
                    try await Outbox.add(callbackID: callbackID, type: "recording.upload",
                                         payload: ["callback_id": callbackID, "attempt": String(attempt), "url": recordingURL],
                                         dedupKey: "recording.upload:\(callbackID):\(attempt)", on: connection)
                }
                return .completed
            }
            switch policies.decide(outcome, attempt: attempt) {
            case .retry(let delay):
                try await connection.query("UPDATE callbacks SET status = 'retry_wait', reason = $2, updated_at = now() WHERE id = $1::uuid",
                                           [callbackID, outcome.rawValue])
                return .redial(after: delay, attempt: attempt + 1)
            case .fail:
                try await connection.query("UPDATE callbacks SET status = 'failed', reason = $2, updated_at = now() WHERE id = $1::uuid",
                                           [callbackID, outcome.rawValue])
                // Queued with the decision: a worker dying right after this commit cannot lose it.
                try await Trigger(name: "callback_failed", callbackID: callbackID, instance: callbackID,
                                  variables: ["reason": outcome.rawValue.replacingOccurrences(of: "_", with: " ")]).queue(on: connection)
                return .failed(reason: outcome.rawValue)
            }
        }
    }

    /// Takes the minutes off the site's balance and, for every low-balance threshold this debit
    /// crossed (balance was above it, is now at or below it), queues the owner's warning. Keyed
    /// by the debit's callback: one warning per crossing, not per call, and a top-up re-arms it.
    private func debit(callbackID: String, minutes: Int, on connection: PostgresConnection) async throws {
        let row = try await connection.query("""
            UPDATE sites SET balance_minutes = balance_minutes - $2 WHERE id = (SELECT site_id FROM callbacks WHERE id = $1::uuid)
            RETURNING id::text AS id, balance_minutes, array_to_json(low_balance_thresholds)::text AS thresholds
            """, [callbackID, minutes])[0]
        let after: Int = try row.decode("balance_minutes")
        let thresholds = try JSONText.decode([Int].self, row.decode("thresholds"))
        let siteID: String = try row.decode("id")
        for threshold in thresholds where after + minutes > threshold && after <= threshold {
            try await Trigger(name: "low_balance", callbackID: callbackID, instance: "\(siteID):\(threshold):\(callbackID)",
                              variables: ["balance": String(after), "threshold": String(threshold)]).queue(on: connection)
        }
    }

    /// Polls the provider for attempt n's call; records the outcome if the call is over.
    public func check(callbackID: String, attempt: Int, callID: String) async throws -> Next? {
        let pending = try await database.query(
            "SELECT 1 FROM attempts WHERE callback_id = $1::uuid AND n = $2 AND outcome IS NULL", [callbackID, attempt])
        guard !pending.isEmpty else { return .unchanged }
        let call = try await provider.call(id: callID)
        guard call.finished, let outcome = call.outcome else { return nil }
        return try await finish(callbackID: callbackID, attempt: attempt, outcome: outcome, durationSeconds: call.durationSeconds,
                                recordingURL: call.recordingURL)
    }

    /// Who and what a callback's notifications are about.
    public struct Context: Sendable {
        public let siteID: String
        public let siteName: String
        public let visitor: String
        public let managers: [String]
        public let timeZone: TimeZone
        /// Where the site's owner and manager emails go.
        public let email: String?
        /// Who gets the owner's SMS: the owner's phone, else the first manager.
        public let owner: String
    }

    public func context(callbackID: String) async throws -> Context? {
        guard let row = try await database.query("""
            SELECT s.id::text AS site_id, s.name, c.phone, array_to_json(s.managers)::text AS managers, s.timezone, s.email,
                   coalesce(s.owner_phone, s.managers[1]) AS owner
            FROM callbacks c JOIN sites s ON s.id = c.site_id WHERE c.id = $1::uuid
            """, [callbackID]).first else { return nil }
        return Context(siteID: try row.decode("site_id"), siteName: try row.decode("name"), visitor: try row.decode("phone"),
                       managers: try JSONDecoder().decode([String].self, from: Data(try row.decode("managers", as: String.self).utf8)),
                       timeZone: TimeZone(identifier: try row.decode("timezone")) ?? TimeZone(identifier: "UTC")!,
                       email: try row.decodeIfPresent("email"), owner: try row.decode("owner"))
    }

    /// Remembers which job should move the callback on next (for the reconciler).
    public func expectJob(callbackID: String, key: String) async throws {
        try await database.query("UPDATE callbacks SET job_key = $2, updated_at = now() WHERE id = $1::uuid", [callbackID, key])
    }

    public static func dialKey(_ callbackID: String, _ attempt: Int) -> String { "callback:\(callbackID):attempt:\(attempt)" }
}

