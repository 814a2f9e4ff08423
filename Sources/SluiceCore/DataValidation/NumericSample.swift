/// The values of one numeric column, kept for drift statistics. Exact (every value)
/// up to a limit; past it the column switches to counts on a fixed grid of bin edges,
/// so memory stays flat however large the file grows.
public struct NumericSample: Sendable {
    public static let gridBins = 4096

    public let limit: Int
    /// Exact mode: every value. Sorted by `finish()`.
    public private(set) var values: [Double] = []
    /// Grid mode: counts per bin; bin i holds values in (edges[i-1], edges[i]], the
    /// last bin everything above the last edge.
    public var edges: [Double]? { gridded ? grid.edges : nil }
    private var grid = GridIndex(edges: [])
    private var gridCounts: [Int] = []
    public private(set) var count = 0
    private var sorted = true
    private var gridded = false
    /// While the column has few distinct values, their counts (see `ValueCounts`).
    private var valueCounts = ValueCounts()

    public init(limit: Int) {
        self.limit = limit
    }

    public var isExact: Bool { !gridded }

    public mutating func add(_ x: Double) {
        withUnsafePointer(to: x) { add(contentsOf: UnsafeBufferPointer(start: $0, count: 1)) }
    }

    /// Call after the last value, before reading counts or values.
    public mutating func finish() {
        guard !sorted else { return }
        if gridded || !valueCounts.sort(&values) { RadixSort.sort(&values) }
        sorted = true
    }

    /// Adds many values of this column at once: in grid mode one tight loop over the column's
    /// own edges and counts, which then stay in cache.
    public mutating func add(contentsOf batch: UnsafeBufferPointer<Double>) {
        var k = 0
        if !gridded {
            // Exact mode: up to one value past the limit (which switches to the grid) at once.
            k = min(batch.count, limit + 1 - values.count)
            // Room for the whole exact sample at once: growing by doubling copied every value
            // about once more and touched twice the pages (only what is written is resident).
            if values.capacity == 0 { values.reserveCapacity(limit + 1) }
            let taken = UnsafeBufferPointer(rebasing: batch[0..<k])
            if sorted, k > 0 {
                if let last = values.last, taken[0] < last { sorted = false }
                var i = 1
                while sorted, i < k {
                    if taken[i] < taken[i - 1] { sorted = false }
                    i += 1
                }
            }
            values.append(contentsOf: taken)
            valueCounts.add(taken)
            count += k
            if values.count > limit { switchToGrid() }
        }
        guard k < batch.count else { return }
        count += batch.count - k
        let grid = self.grid
        gridCounts.withUnsafeMutableBufferPointer { counts in
            for x in batch[k...] { counts[grid.bin(of: x)] += 1 }
        }
    }

    /// Edges for a grid: this sample's own if gridded, else its quantiles.
    public func gridEdges() -> [Double] {
        if let edges { return edges }
        var sortedValues = values
        if !sorted {
            if !valueCounts.sort(&sortedValues) { RadixSort.sort(&sortedValues) }
        }
        return Self.quantileEdges(sortedValues, bins: Self.gridBins)
    }

    private mutating func switchToGrid() {
        finish()
        let e = Self.quantileEdges(values, bins: Self.gridBins)
        // The values are sorted: one walk along them and the edges counts every bin.
        var counts = [Int](repeating: 0, count: e.count + 1)
        var bin = 0
        for v in values {
            while bin < e.count, e[bin] < v { bin += 1 }
            counts[bin] += 1
        }
        grid = GridIndex(edges: e)
        gridded = true
        gridCounts = counts
        values = []
    }

    /// Number of values <= x. Exact in exact mode; in grid mode exact at the edges.
    public func countAtOrBelow(_ x: Double) -> Int {
        if gridded {
            let edges = grid.edges
            let b = grid.bin(of: x)
            // Bins 0..<b hold values <= edges[b-1] <= x; bin b is counted only when x is its edge.
            var total = 0
            for i in 0..<b { total += gridCounts[i] }
            if b < edges.count, edges[b] == x { total += gridCounts[b] }
            return total
        }
        return Self.upperBound(values, x)
    }

    /// `countAtOrBelow` of each point. In grid mode the bins are summed once for all points:
    /// one sum per point cost 4,096 x 4,096 additions per column when the two files' grids differ.
    func cumulativeCounts(at points: [Double]) -> [Int] {
        guard gridded else { return points.map(countAtOrBelow) }
        let edges = grid.edges
        var below = [0]  // below[i]: the values in bins 0..<i
        below.reserveCapacity(gridCounts.count + 1)
        for c in gridCounts { below.append(below[below.count - 1] + c) }
        return points.map { x in
            let b = grid.bin(of: x)
            return below[b] + (b < edges.count && edges[b] == x ? gridCounts[b] : 0)
        }
    }

    /// The first index whose value is > x (numpy searchsorted side='right').
    static func upperBound(_ sorted: [Double], _ x: Double) -> Int {
        var lo = 0, hi = sorted.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sorted[mid] <= x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The bin of x: the first edge >= x (values equal to an edge fall in its bin).
    static func bin(of x: Double, edges: [Double]) -> Int {
        var lo = 0, hi = edges.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if edges[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Distinct inner quantiles (numpy's default linear interpolation) that cut the
    /// sorted values into `bins` groups.
    static func quantileEdges(_ sorted: [Double], bins: Int) -> [Double] {
        guard !sorted.isEmpty, bins > 1 else { return [] }
        var edges: [Double] = []
        for k in 1..<bins {
            let q = quantile(sorted, Double(k) / Double(bins))
            if edges.last != q { edges.append(q) }
        }
        return edges
    }

    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        let position = q * Double(sorted.count - 1)
        let lower = Int(position)
        let fraction = position - Double(lower)
        if lower + 1 >= sorted.count { return sorted[sorted.count - 1] }
        return sorted[lower] + (sorted[lower + 1] - sorted[lower]) * fraction
    }
}
