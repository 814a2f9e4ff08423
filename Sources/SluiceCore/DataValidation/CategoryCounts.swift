#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Counts of each distinct value of a categorical column. The first few categories
/// are matched byte-for-byte without building a String, which keeps the common case
/// (a handful of categories, millions of rows) fast.
public struct CategoryCounts: Sendable {
    private var recent: [[UInt8]] = []
    private var recentIndex: [Int] = []
    private var indexByValue: [String: Int] = [:]
    public private(set) var names: [String] = []
    public private(set) var counts: [Int] = []
    /// More distinct values than `limit` (an id or free-text column): new values are no
    /// longer counted, and the column is left out of drift tests.
    public private(set) var overflowed = false
    public static let limit = 100_000

    public init() {}

    public var total: Int { counts.reduce(0, +) }

    /// Adds one occurrence; returns the category's index, or -1 once `overflowed`.
    @discardableResult
    public mutating func add(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        for k in 0..<recent.count {
            let same = recent[k].withUnsafeBufferPointer { r in
                guard r.count == bytes.count else { return false }
                for j in 0..<r.count where r[j] != bytes[j] { return false }
                return true
            }
            if same {
                counts[recentIndex[k]] += 1
                return recentIndex[k]
            }
        }
        let name = String(decoding: bytes, as: UTF8.self)
        let index: Int
        if let existing = indexByValue[name] {
            index = existing
        } else {
            if names.count >= Self.limit {
                overflowed = true
                return -1
            }
            index = names.count
            indexByValue[name] = index
            names.append(name)
            counts.append(0)
        }
        counts[index] += 1
        if recent.count < 32 {
            recent.append(Array(bytes))
            recentIndex.append(index)
        }
        return index
    }

    public func count(of name: String) -> Int { indexByValue[name].map { counts[$0] } ?? 0 }
}
