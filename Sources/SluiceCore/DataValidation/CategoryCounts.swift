/// Counts of each distinct value of a categorical column. The first few categories
/// are matched byte-for-byte without building a String, which keeps the common case
/// (a handful of categories, millions of rows) fast.
public struct CategoryCounts: Sendable {
    private var recent: [[UInt8]] = []
    private var recentIndex: [Int] = []
    private var indexByValue: [String: Int] = [:]
    public private(set) var names: [String] = []
    public private(set) var counts: [Int] = []

    public init() {}

    public var total: Int { counts.reduce(0, +) }

    /// Adds one occurrence; returns the category's index.
    @discardableResult
    public mutating func add(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        for k in 0..<recent.count where FieldParsing.equals(bytes, recent[k]) {
            counts[recentIndex[k]] += 1
            return recentIndex[k]
        }
        let name = String(decoding: bytes, as: UTF8.self)
        let index: Int
        if let existing = indexByValue[name] {
            index = existing
        } else {
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
