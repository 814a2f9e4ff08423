/// Finds a value's bin among sorted, distinct edges in a few steps whatever the number of
/// edges. The range [first edge, last edge] is cut into equal-width cells, and a small table
/// (it stays in cache next to the counts) gives the first edge in each cell; the few edges
/// of the value's cell are then compared all at once (no branch to mispredict), or, where a
/// heavy tail packs many edges into one cell, searched. Exact: the answer is always the
/// first edge >= x, as a binary search over all edges gives.
public struct GridIndex: Sendable {
    public let edges: [Double]
    /// The edges followed by `scan` infinities, so a scan from any edge stays in bounds.
    private let padded: [Double]
    /// cells[k] = the first edge whose cell is k or later; cells[cellCount] = edges.count.
    private let cells: [UInt16]
    private let lowest: Double
    private let highest: Double
    private let scale: Double
    static let cellCount = 4096
    private static let scan = 8

    public init(edges: [Double]) {
        self.edges = edges
        padded = edges + [Double](repeating: .infinity, count: Self.scan)
        lowest = edges.first ?? 0
        highest = edges.last ?? 0
        let span = highest - lowest
        guard edges.count > 1, edges.count < Int(UInt16.max), span.isFinite, span > 0 else {
            scale = 0
            cells = []
            return
        }
        scale = Double(Self.cellCount) / span
        var table = [UInt16](repeating: 0, count: Self.cellCount + 1)
        var e = 0
        for k in 0...Self.cellCount {
            // The same cell function as `bin`: it is monotone, so an edge in an earlier cell
            // than x's is below x, and one in a later cell above it.
            while e < edges.count, Self.cell(edges[e], lowest, scale) < k { e += 1 }
            table[k] = UInt16(e)
        }
        cells = table
    }

    @inline(__always)
    private static func cell(_ x: Double, _ lowest: Double, _ scale: Double) -> Int {
        // For lowest <= x <= highest the product lies in 0...cellCount.
        min(Int((x - lowest) * scale), cellCount - 1)
    }

    /// The bin of x: the first edge >= x, or `edges.count` above the last edge. x is not NaN.
    @inline(__always)
    public func bin(of x: Double) -> Int {
        if !(x > lowest) { return 0 }
        if x > highest { return edges.count }
        if cells.isEmpty { return NumericSample.bin(of: x, edges: edges) }
        let k = Self.cell(x, lowest, scale)
        let first = Int(cells[k])
        let end = Int(cells[k + 1])
        return padded.withUnsafeBufferPointer { e in
            if end - first <= Self.scan {
                // Edges from `first` on are sorted, and those from `end` on are >= x: the
                // number of the next eight below x is the offset of the answer.
                // (A Bool read as its byte is 0 or 1: sums with no branches.)
                let p = e.baseAddress! + first
                @inline(__always) func below(_ j: Int) -> Int { Int(unsafeBitCast(p[j] < x, to: UInt8.self)) }
                return first &+ (below(0) &+ below(1) &+ below(2) &+ below(3)) &+ (below(4) &+ below(5) &+ below(6) &+ below(7))
            }
            var a = first, b = end
            while a < b {
                let mid = (a + b) / 2
                if e[mid] < x { a = mid + 1 } else { b = mid }
            }
            return a
        }
    }
}
