import FoundationEssentials

/// One replica's time leading a Lease, numbered in the store: the fencing token of what it does
/// outside (promotions, deploys, forge statuses). A replica that lost the Lease without noticing
/// (a pause, a cut network), or that drains its pipelines past the Lease's end, still holds an
/// older term than the replica that now leads, and the store refuses its acts.
public struct LeadershipTerm: Sendable, Hashable, CustomStringConvertible {
    /// `namespace/name` of the Lease.
    public var lease: String
    public var holder: String
    public var number: Int64

    public var description: String { "\(holder)'s term \(number) of lease \(lease)" }
}

/// Whether this process may act on the outside.
enum Fence: Sendable {
    /// No Lease: one controller, or a command a person runs.
    case unfenced
    /// A replica under a Lease that has not led yet.
    case following(lease: String)
    case leading(LeadershipTerm)
    /// The Lease was lost: nothing more is done outside until a new term starts.
    case ended(LeadershipTerm)
}

extension RunStore {
    /// Starts a new term of `lease` for `holder` (the replica just acquired it): every earlier
    /// term, of any replica, is over from now on.
    @discardableResult
    public func beginTerm(lease: String, holder: String, at time: Double) throws(StoreError) -> LeadershipTerm {
        let term = try write { db in
            let last = try db.value(Int64.self, "SELECT term FROM leadership WHERE lease = ?", [lease]) ?? 0
            try db.execute("""
                INSERT INTO leadership (lease, term, holder, startedAt) VALUES (?, ?, ?, ?)
                ON CONFLICT (lease) DO UPDATE SET term = excluded.term, holder = excluded.holder, startedAt = excluded.startedAt
                """, [lease, last + 1, holder, time])
            return LeadershipTerm(lease: lease, holder: holder, number: last + 1)
        }
        fence.withLock { $0 = .leading(term) }
        return term
    }

    /// This replica elects a leader with `lease`: until it leads, it acts on the outside not at all.
    public func follow(lease: String) {
        fence.withLock { $0 = .following(lease: lease) }
    }

    /// This replica stopped leading (a renewal failed): it acts on the outside no more.
    public func endTerm() {
        fence.withLock { if case .leading(let term) = $0 { $0 = .ended(term) } }
    }

    /// Why this process may not act on the outside now, nil when it may: its term is over, or a
    /// later one started (another replica leads). `act` says what was refused, for the message.
    public func fenceRefusal(_ act: String) throws(StoreError) -> String? {
        let fence = fence.withLock { $0 }
        if case .unfenced = fence { return nil }  // the usual case: no store read
        return try read { db in try Self.fenceRefusal(fence, act: act, db) }
    }

    /// Throws why this process may not do `act` outside now (see `fenceRefusal`).
    public func requireLeadership(for act: String) throws(StoreError) {
        if let refusal = try fenceRefusal(act) { throw StoreError(description: refusal) }
    }

    /// The check, inside a transaction that acts (the promotion log's swap).
    static func fenceRefusal(_ fence: Fence, act: String, _ db: any StoreTransaction) throws -> String? {
        switch fence {
        case .unfenced:
            return nil
        case .following(let lease):
            return "\(act) refused: this replica does not lead lease \(lease); the replica that leads does it"
        case .ended(let term):
            return "\(act) refused: \(term) ended (the Lease was lost); the replica that leads now does it"
        case .leading(let term):
            guard let row = try db.rows("SELECT term, holder FROM leadership WHERE lease = ?", [term.lease]).first else {
                return "\(act) refused: no term of lease \(term.lease) is recorded in the run store"
            }
            let (number, holder): (Int64, String) = (row["term"], row["holder"])
            guard number != term.number else { return nil }
            return "\(act) refused: \(term) is over; \(holder) leads in term \(number)"
        }
    }
}
