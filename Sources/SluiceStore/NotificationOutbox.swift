import FoundationEssentials
import GRDB
public import SluiceCore

/// The notification outbox: events recorded with their cause, then one delivery per provider a
/// route names, each attempt recorded. A delivery is `pending` until a provider accepts it
/// (`delivered`), gives up after the retry window (`failed`), or repeats an identical event
/// sent within the rate-limit window (`collapsed`). Events and deliveries are keyed by the
/// event's id: recording one twice, or a restart, never sends it twice.
extension RunStore {
    public typealias Delivery = NotificationDelivery

    static func record(_ events: [NotificationEvent], in db: any StoreTransaction) throws {
        for event in events {
            try db.execute("""
                INSERT INTO notification_events (id, kind, repository, body, createdAt) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """, [event.id, event.kind.rawValue, event.repository, try Self.json(event), event.time])
        }
    }

    /// Records events that have no stored cause of their own.
    public func recordEvents(_ events: [NotificationEvent]) throws(StoreError) {
        try write { db in try Self.record(events, in: db) }
    }

    private static func json(_ event: NotificationEvent) throws -> String {
        String(decoding: try JSONEncoder().encode(event), as: UTF8.self)
    }

    private static func event(_ row: Row) throws -> NotificationEvent {
        try JSONDecoder().decode(NotificationEvent.self, from: Data((row["body"] as String).utf8))
    }

    /// Events no route has looked at yet, oldest first, and the ids of those that cannot be
    /// read (written by another version, or damaged).
    public func unroutedEvents(limit: Int = 100) throws(StoreError) -> (events: [NotificationEvent], unreadable: [String]) {
        try read { db in
            var events: [NotificationEvent] = [], unreadable: [String] = []
            for row in try db.rows("SELECT id, body FROM notification_events WHERE routed = 0 ORDER BY createdAt, id LIMIT ?", [limit]) {
                do { events.append(try Self.event(row)) } catch { unreadable.append(row["id"]) }
            }
            return (events, unreadable)
        }
    }

    public func markRouted(_ eventID: String) throws(StoreError) {
        try write { db in try db.execute("UPDATE notification_events SET routed = 1 WHERE id = ?", [eventID]) }
    }

    /// Pending deliveries to providers not in `providers` fail with `reason`; returns how many.
    public func failDeliveries(toProvidersNotIn providers: [String], reason: String, now: Double) throws(StoreError) -> Int {
        try write { db in
            try db.execute("""
                UPDATE notification_deliveries SET state = 'failed', lastError = ?, finishedAt = ?
                WHERE state = 'pending'\(providers.isEmpty ? "" : " AND provider NOT IN (\(placeholders(providers.count)))")
                """, [reason, now] + SQLArguments(providers))
        }
    }

    /// Forgets deliveries that finished before `time`, and the events left with none pending.
    public func pruneNotifications(finishedBefore time: Double) throws(StoreError) {
        try write { db in
            try db.execute("DELETE FROM notification_deliveries WHERE state != 'pending' AND finishedAt < ?", [time])
            try db.execute("""
                DELETE FROM notification_events WHERE routed = 1 AND createdAt < ?
                  AND NOT EXISTS (SELECT 1 FROM notification_deliveries d WHERE d.eventId = notification_events.id)
                """, [time])
        }
    }

    /// Routes `event`: a delivery for each provider (collapsed when the provider was sent an
    /// identical event, same fingerprint, since `collapseSince`), and the event marked routed.
    /// Returns the providers it was collapsed for.
    @discardableResult
    public func route(_ event: NotificationEvent, to providers: [String], fingerprint: String, collapseSince: Double,
                      now: Double) throws(StoreError) -> [String] {
        try write { db in
            var collapsed: [String] = []
            for provider in providers {
                let recent = try db.value(Bool.self, """
                    SELECT EXISTS (SELECT 1 FROM notification_deliveries WHERE provider = ? AND fingerprint = ? AND createdAt >= ? AND state != 'collapsed')
                    """, [provider, fingerprint, collapseSince]) ?? false
                let inserted = try db.execute("""
                    INSERT INTO notification_deliveries (eventId, provider, state, fingerprint, attempts, nextAttemptAt, createdAt, finishedAt)
                    VALUES (?, ?, ?, ?, 0, ?, ?, ?) ON CONFLICT DO NOTHING
                    """, [event.id, provider, recent ? Delivery.State.collapsed.rawValue : Delivery.State.pending.rawValue, fingerprint,
                          now, now, recent ? now : nil])
                if recent, inserted > 0 { collapsed.append(provider) }
            }
            try db.execute("UPDATE notification_events SET routed = 1 WHERE id = ?", [event.id])
            return collapsed
        }
    }

    /// `provider`'s pending deliveries whose next attempt is due, oldest first.
    public func dueDeliveries(provider: String, now: Double, limit: Int = 50) throws(StoreError) -> [Delivery] {
        try deliveries(where: "d.provider = ? AND d.state = 'pending' AND d.nextAttemptAt <= ?", arguments: [provider, now],
                       order: "d.nextAttemptAt, d.createdAt, d.eventId", limit: limit)
    }

    /// The latest deliveries, newest first (`sluice notifications`, the UI).
    public func recentDeliveries(limit: Int = 50) throws(StoreError) -> [Delivery] {
        try deliveries(where: "TRUE", arguments: [], order: "d.createdAt DESC, d.eventId, d.provider", limit: limit)
    }

    private func deliveries(where condition: String, arguments: SQLArguments, order: String, limit: Int) throws(StoreError) -> [Delivery] {
        try read { db in
            try db.rows("""
                SELECT d.*, e.body FROM notification_deliveries d JOIN notification_events e ON e.id = d.eventId
                WHERE \(condition) ORDER BY \(order) LIMIT \(limit)
                """, arguments).compactMap { row in
                // An event that cannot be read was never routed (see unroutedEvents): no delivery names one.
                let event: NotificationEvent
                do { event = try Self.event(row) } catch { return nil }
                return Delivery(event: event, provider: row["provider"], state: Delivery.State(rawValue: row["state"]) ?? .pending,
                                attempts: row["attempts"], nextAttemptAt: row["nextAttemptAt"], lastStatus: row["lastStatus"], lastError: row["lastError"],
                                createdAt: row["createdAt"], finishedAt: row["finishedAt"])
            }
        }
    }

    /// Records one attempt: `state` delivered or failed (finished), or pending again at `retryAt`.
    public func recordAttempt(eventID: String, provider: String, state: Delivery.State, status: Int?, error: String?,
                              retryAt: Double?, now: Double) throws(StoreError) {
        try write { db in
            try db.execute("""
                UPDATE notification_deliveries SET attempts = attempts + 1, state = ?, lastStatus = ?, lastError = ?,
                    nextAttemptAt = coalesce(?, nextAttemptAt), finishedAt = ?
                WHERE eventId = ? AND provider = ?
                """, [state.rawValue, status, error, retryAt, state == .pending ? nil : now, eventID, provider])
        }
    }
}
