import CryptoPrimitives
import Foundation
import PostgresClient
import Providers

/// The dial flow's state changes, each in one PostgreSQL transaction, with every external effect
/// recorded in the effect ledger under a key derived from the job (docs/design.md, "Idempotency"):
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
    /// `REDIAL_TIME_SCALE`: the attempt deadlines below are compared with real ages divided by it.
    public let timeScale: Double
    /// Opens the sealed numbers it dials and notifies (`SealedColumn`).
    public let protection: DataProtection
    var unclearAnswers: OutcomePolicies.UnclearAnswers { policies.unclearAnswers }

    public init(database: PostgresPool, provider: any TelephonyProvider, policies: OutcomePolicies, webhookURL: String,
                protection: DataProtection, timeScale: Double = 1, unsafeWithoutLedger: Bool = false) {
        self.database = database
        self.protection = protection
        self.provider = provider
        self.policies = policies
        self.webhookURL = webhookURL
        self.timeScale = timeScale
        self.unsafeWithoutLedger = unsafeWithoutLedger
    }

    public enum DialResult: Sendable, Equatable {
        /// Nothing to do: unknown, already terminal, or a stale job for another attempt.
        case nothing
        /// Outside working hours: try again at this time (status `scheduled`).
        case closedUntil(Date)
        /// The visitor asked to be called at this time, which has not come (status `scheduled`).
        case notBefore(Date)
        /// The call is placed (now or by an earlier run of the same attempt).
        case dialed(attempt: Int, callID: String)
        /// The attempt ended before a call existed; what comes next is in `next`.
        case ended(attempt: Int, Next)
        /// The carrier's answer left it unclear whether the call exists: run again after the
        /// delay, which retries the same attempt under the same idempotency key.
        case unclear(attempt: Int, retryAfter: Duration)
    }

    public enum Next: Sendable, Equatable {
        case redial(after: Duration, attempt: Int)
        case completed
        case failed(reason: String)
        /// The attempt already had its outcome: a repeated or late event changes nothing.
        case unchanged
    }

    /// Places attempt n of a callback (or finds the one already placed).
    /// - Parameter expectedAttempt: the attempt the job was made for; a job that finds the
    ///   callback at another attempt is stale (an earlier redial, a reconciler's copy) and does nothing.
    public func dial(callbackID: String, expectedAttempt: Int? = nil, now: Date = Date()) async throws -> DialResult {
        let prepared: Prepared = try await database.transaction { connection in
            let rows = try await connection.query("""
                SELECT c.status, c.phone, c.call_at > $2::timestamptz AS early, extract(epoch FROM c.call_at)::float8 AS call_at,
                       s.timezone, s.hours::text AS hours, s.balance_minutes, array_to_json(s.managers)::text AS managers
                FROM callbacks c JOIN sites s ON s.id = c.site_id WHERE c.id = $1::uuid FOR UPDATE OF c
                """, [callbackID, Timestamp.text(now)])
            guard let row = rows.first, let status = CallbackStatus(rawValue: try row.decode("status")), status.isActive else { return .nothing }
            // Resume an attempt that has no outcome yet (a replay), or start the next one.
            let last = try await connection.query(
                "SELECT n, outcome FROM attempts WHERE callback_id = $1::uuid ORDER BY n DESC LIMIT 1", [callbackID]).first
            var attempt = 1
            var resuming = false
            if let last {
                let n: Int = try last.decode("n")
                resuming = try last.decodeIfPresent("outcome", as: String.self) == nil
                attempt = resuming ? n : n + 1
            }
            if let expectedAttempt, expectedAttempt != attempt { return .nothing }
            // An attempt under way is finished whatever the clock says; a new one waits for its time.
            if !resuming {
                if try row.decodeIfPresent("early", as: Bool.self) == true, let epoch = try row.decodeIfPresent("call_at", as: Double.self) {
                    let callAt = Date(timeIntervalSince1970: epoch)
                    try await connection.query("UPDATE callbacks SET status = 'scheduled', updated_at = now() WHERE id = $1::uuid", [callbackID])
                    return .notBefore(callAt)
                }
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
            }
            let age = try await connection.query("""
                INSERT INTO attempts (callback_id, n) VALUES ($1::uuid, $2) ON CONFLICT (callback_id, n) DO UPDATE SET n = EXCLUDED.n
                RETURNING extract(epoch FROM now() - started_at)::float8 AS age
                """, [callbackID, attempt])[0].decode("age", as: Double.self)
            let key = Self.dialKey(callbackID, attempt)
            var placed: String?
            if case .done(let result) = try await EffectLedger.begin(key, on: connection) { placed = result["call_id"] }
            try await connection.query("UPDATE callbacks SET status = 'dialing', updated_at = now() WHERE id = $1::uuid", [callbackID])
            // Placed before (a replay, or the reconciler after a lost poll): the poll goes out
            // again; its dedup key makes it one job while the first is alive or done.
            if let placed { try await CheckArgs.queue(callbackID: callbackID, attempt: attempt, callID: placed, on: connection) }
            return .ready(attempt: attempt, callID: placed, age: .milliseconds(Int64(max(0, age) * 1000)), visitor: try protection.open(try row.decode("phone"), .callbackPhone),
                          managers: try openManagers(row))
        }
        let attempt: Int, age: Duration, visitor: String, managers: [String]
        switch prepared {
        case .nothing: return .nothing
        case .closed(let until): return .closedUntil(until)
        case .notBefore(let time): return .notBefore(time)
        case .ready(let n, let placed?, _, _, _): return .dialed(attempt: n, callID: placed)
        case .ready(let n, nil, let started, let number, let ringing): (attempt, age, visitor, managers) = (n, started, number, ringing)
        }
        let key = Self.dialKey(callbackID, attempt)
        // The broken build's key is new on every run, so its replays ring again.
        let providerKey = unsafeWithoutLedger ? "\(key):\(UInt64.random(in: 0...UInt64.max))" : key
        let call: ProviderCall
        do {
            call = try await provider.originate(managers: managers, visitor: visitor, idempotencyKey: providerKey, callbackURL: webhookURL)
        } catch .refused(let outcome, let detail) {
            // The carrier placed no call: the attempt ends here, recorded like any other outcome.
            try await EffectLedger(database: database).complete(key, result: ["error": detail])
            return .ended(attempt: attempt, try await finish(callbackID: callbackID, attempt: attempt, outcome: outcome, durationSeconds: 0))
        } catch .unclear(let detail) {
            return try await settleUnclear(callbackID: callbackID, attempt: attempt, providerKey: providerKey, age: age, detail: detail)
        }
        return try await link(callbackID: callbackID, attempt: attempt, call: call)
    }

    /// After an unclear originate answer: inside the attempt's deadline, the same attempt is tried
    /// again under the same key. Past it, the carrier is asked for the call under that key: found,
    /// it is linked; definitely absent, the attempt ends as a network failure (nothing was
    /// placed, so a new attempt cannot ring twice); no answer to that either past the look-up
    /// window, the attempt is recorded as `unknown` and never re-dialed blind.
    private func settleUnclear(callbackID: String, attempt: Int, providerKey: String, age: Duration, detail: String) async throws -> DialResult {
        let policyAge = age / timeScale
        let retry = DialResult.unclear(attempt: attempt, retryAfter: unclearAnswers.retryDelay(afterAge: policyAge))
        if policyAge < unclearAnswers.deadline { return retry }
        let key = Self.dialKey(callbackID, attempt)
        let found: ProviderCall?
        do {
            found = try await provider.call(idempotencyKey: providerKey)
        } catch {
            if policyAge < unclearAnswers.deadline + unclearAnswers.lookupWindow { return retry }
            try await EffectLedger(database: database).complete(key, result: ["error": "unknown after \(detail); look-up: \(error)"])
            return .ended(attempt: attempt, try await finish(callbackID: callbackID, attempt: attempt, outcome: .unknown, durationSeconds: 0))
        }
        if let found { return try await link(callbackID: callbackID, attempt: attempt, call: found) }
        try await EffectLedger(database: database).complete(key, result: ["error": "no call under the key after \(detail)"])
        return .ended(attempt: attempt, try await finish(callbackID: callbackID, attempt: attempt, outcome: .networkFailure, durationSeconds: 0))
    }

    /// Records the call an attempt placed: its effect done, the attempt linked to it (so its
    /// webhook and its poll find it).
    private func link(callbackID: String, attempt: Int, call: ProviderCall) async throws -> DialResult {
        try await database.transaction { connection in
            try await EffectLedger.complete(Self.dialKey(callbackID, attempt), result: ["call_id": call.callID], on: connection)
            try await connection.query("UPDATE attempts SET provider_call_id = $3 WHERE callback_id = $1::uuid AND n = $2",
                                       [callbackID, attempt, call.callID])
            try await CheckArgs.queue(callbackID: callbackID, attempt: attempt, callID: call.callID, on: connection)
        }
        return .dialed(attempt: attempt, callID: call.callID)
    }

    private enum Prepared {
        case nothing
        case closed(until: Date)
        case notBefore(Date)
        /// `callID`: the call this attempt already placed (its effect is done); `age`: since the attempt began.
        case ready(attempt: Int, callID: String?, age: Duration, visitor: String, managers: [String])
    }

    /// Records the outcome of the attempt that placed `callID` and moves the callback on.
    /// Idempotent and order-tolerant: an attempt's outcome is set once; a repeated or late event
    /// answers `.unchanged`.
    public func recordOutcome(callID: String, outcome: CallOutcome, durationSeconds: Int,
                              recordingURL: String?, sipCode: Int? = nil) async throws -> (callbackID: String, Next)? {
        let rows = try await database.query(
            "SELECT callback_id::text AS callback_id, n FROM attempts WHERE provider_call_id = $1", [callID])
        guard let row = rows.first else { return nil }
        let callbackID: String = try row.decode("callback_id")
        return (callbackID, try await finish(callbackID: callbackID, attempt: try row.decode("n"), outcome: outcome,
                                             durationSeconds: durationSeconds, recordingURL: recordingURL, sipCode: sipCode))
    }

    /// Sets attempt n's outcome (once, with the carrier's SIP code if it gave one) and decides
    /// the callback's next step in one transaction.
    func finish(callbackID: String, attempt: Int, outcome: CallOutcome, durationSeconds: Int,
                recordingURL: String? = nil, sipCode: Int? = nil) async throws -> Next {
        try await database.transaction { connection in
            let updated = try await connection.query("""
                UPDATE attempts SET outcome = $3, sip_code = $4, ended_at = now() WHERE callback_id = $1::uuid AND n = $2 AND outcome IS NULL
                RETURNING n
                """, [callbackID, attempt, outcome.rawValue, sipCode])
            guard !updated.isEmpty else { return .unchanged }
            let status = try await connection.query("SELECT status FROM callbacks WHERE id = $1::uuid FOR UPDATE", [callbackID])
            guard let current = try status.first.map({ try $0.decode("status", as: String.self) }),
                  CallbackStatus(rawValue: current)?.isActive == true else { return .unchanged }
            if outcome == .answered {
                // A carrier's number is input like any other: clamped to a day, so a wild
                // duration cannot overflow the arithmetic (and kill the worker on every retry).
                let seconds = min(max(durationSeconds, 0), Self.longestCallSeconds)
                let minutes = max(1, (seconds + 59) / 60)
                // The debit is an effect too: exactly once per callback, whatever replays.
                if try await EffectLedger.recordOnce("debit:\(callbackID)", result: ["minutes": String(minutes)], on: connection) {
                    try await debit(callbackID: callbackID, minutes: minutes, on: connection)
                }
                try await connection.query("""
                    UPDATE callbacks SET status = 'completed', reason = NULL, minutes_debited = $2, updated_at = now() WHERE id = $1::uuid
                    """, [callbackID, minutes])
                if let recordingURL {
                    let upload = RecordingUploadArgs(callbackID: try CallbackID(callbackID), attempt: attempt, url: recordingURL)
                    try await Outbox.add(upload, callbackID: callbackID, dedupKey: upload.dedupKey, on: connection)
                }
                return .completed
            }
            switch policies.decide(outcome, attempt: attempt) {
            case .retry(let delay):
                try await connection.query("UPDATE callbacks SET status = 'retry_wait', reason = $2, updated_at = now() WHERE id = $1::uuid",
                                           [callbackID, outcome.rawValue])
                // Queued with the decision, for the next attempt by number: a worker dying after
                // this commit cannot lose it, and no other job can start that attempt early.
                try await DialArgs.queue(callbackID: callbackID, attempt: attempt + 1,
                                            runAt: Date().addingTimeInterval(Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18),
                                            on: connection)
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

    /// The longest call the flow believes: a day.
    static let longestCallSeconds = 86_400

    /// Takes the minutes off the site's balance (never below zero: concurrent calls may end
    /// together on a nearly empty balance, and what is over is recorded as unpaid, not owed by a
    /// negative number) and, for every low-balance threshold this debit
    /// crossed (balance was above it, is now at or below it), queues the owner's warning. Keyed
    /// by the debit's callback: one warning per crossing, not per call, and a top-up re-arms it.
    private func debit(callbackID: String, minutes: Int, on connection: PostgresConnection) async throws {
        // A ledger entry (`BalanceLedger`); its trigger moves the balance in this transaction.
        let row = try await connection.query("""
            WITH site AS (
                SELECT s.id, s.balance_minutes AS before, s.low_balance_thresholds FROM sites s JOIN callbacks c ON c.site_id = s.id
                WHERE c.id = $1::uuid FOR UPDATE OF s),
            entry AS (
                INSERT INTO ledger (site_id, kind, minutes, entry_key, note)
                SELECT id, 'call', -LEAST(before, $2), 'call:' || $1, CASE WHEN before < $2 THEN ($2 - before) || ' minutes unpaid' END FROM site)
            SELECT id::text AS id, before, before - LEAST(before, $2) AS balance_minutes,
                   array_to_json(low_balance_thresholds)::text AS thresholds FROM site
            """, [callbackID, minutes])[0]
        let before: Int = try row.decode("before")
        let after: Int = try row.decode("balance_minutes")
        let thresholds = try JSONText.decode([Int].self, row.decode("thresholds"))
        let siteID: String = try row.decode("id")
        for threshold in thresholds where before > threshold && after <= threshold {
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
                                recordingURL: call.recordingURL, sipCode: call.sipCode)
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
        /// Which events the owner turned off, by SMS or e-mail.
        public let notifications: NotificationSettings
    }

    public func context(callbackID: String) async throws -> Context? {
        guard let row = try await database.query("""
            SELECT s.id::text AS site_id, s.name, c.phone, array_to_json(s.managers)::text AS managers, s.timezone, s.email,
                   s.owner_phone, s.notifications::text AS notifications
            FROM callbacks c JOIN sites s ON s.id = c.site_id WHERE c.id = $1::uuid
            """, [callbackID]).first else { return nil }
        let managers = try openManagers(row)
        guard let owner = try row.decodeIfPresent("owner_phone", as: String.self).map({ try protection.open($0, .siteOwnerPhone) })
                ?? managers.first else {
            throw DomainError(.invalid, "site \(try row.decode("site_id", as: String.self)) has no manager")
        }
        return Context(siteID: try row.decode("site_id"), siteName: try row.decode("name"),
                       visitor: try protection.open(try row.decode("phone"), .callbackPhone), managers: managers,
                       timeZone: TimeZone(identifier: try row.decode("timezone")) ?? TimeZone(identifier: "UTC")!,
                       email: try row.decodeIfPresent("email"), owner: owner,
                       notifications: try JSONText.decode(NotificationSettings.self, row.decode("notifications")))
    }

    /// A site's managers, opened, from a row's `managers` (`array_to_json`).
    private func openManagers(_ row: PostgresRow) throws -> [String] {
        try JSONText.decode([String].self, row.decode("managers")).map { try protection.open($0, .siteManagers) }
    }

    public static func dialKey(_ callbackID: String, _ attempt: Int) -> String { "callback:\(callbackID):attempt:\(attempt)" }
}

