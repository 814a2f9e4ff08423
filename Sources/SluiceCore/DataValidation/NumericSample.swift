/// The values of one numeric column, kept for drift statistics. While the column has few
/// distinct values (integers, rounded measurements) it keeps their counts, exact whatever the
/// number of rows; otherwise every value (exact) up to a limit, past which it switches to
/// counts on a fixed grid of bin edges, so memory stays flat however large the file grows.
public struct NumericSample: Sendable {
    public static let gridBins = 4096

    public let limit: Int
    private enum Mode: Sendable { case counted, exact, gridded }
    private var mode = Mode.counted
    /// Counted mode: each distinct value's count; after `finish()`, as sorted runs.
    private var valueCounts = ValueCounts()
    private var runs = SortedRuns()
    /// Exact mode: every value. Sorted by `finish()`.
    private var exactValues: [Double] = []
    /// Grid mode: counts per bin; bin i holds values in (edges[i-1], edges[i]], the
    /// last bin everything above the last edge.
    public var edges: [Double]? { mode == .gridded ? grid.edges : nil }
    private var grid = GridIndex(edges: [])
    private var gridCounts: [Int] = []
    public private(set) var count = 0
    /// Whether every value so far came in ascending order (then `finish()` need not sort them).
    private var sorted = true
    private var lastValue = -Double.infinity

    public init(limit: Int) {
        self.limit = limit
    }

    /// Whether the statistics see every value (counted or exact mode), not a grid.
    public var isExact: Bool { mode != .gridded }

    /// Every value, ascending (after `finish()`); empty in grid mode.
    public var values: [Double] {
        switch mode {
        case .counted: runs.expanded()
        case .exact: exactValues
        case .gridded: []
        }
    }

    public mutating func add(_ x: Double) {
        withUnsafePointer(to: x) { add(contentsOf: UnsafeBufferPointer(start: $0, count: 1)) }
    }

    /// Call after the last value, before reading counts or values.
    public mutating func finish() {
        switch mode {
        case .counted: runs = valueCounts.runs()
        case .exact where !sorted:
            RadixSort.sort(&exactValues)
            sorted = true
        case .exact, .gridded: break
        }
    }

    /// Adds many values of this column at once: in grid mode one tight loop over the column's
    /// own edges and counts, which then stay in cache.
    public mutating func add(contentsOf batch: UnsafeBufferPointer<Double>) {
        var k = 0
        if mode == .counted {
            k = valueCounts.add(batch)
            noteOrder(UnsafeBufferPointer(rebasing: batch[0..<k]))
            count += k
            guard k < batch.count else { return }
            leaveCountedMode()
        }
        if mode == .exact {
            // Up to one value past the limit (which switches to the grid) at once.
            let taken = UnsafeBufferPointer(rebasing: batch[k..<min(batch.count, k + limit + 1 - exactValues.count)])
            noteOrder(taken)
            exactValues.append(contentsOf: taken)
            count += taken.count
            k += taken.count
            if exactValues.count > limit { switchToGrid() }
        }
        guard k < batch.count else { return }
        count += batch.count - k
        let grid = self.grid
        gridCounts.withUnsafeMutableBufferPointer { counts in
            for x in batch[k...] { counts[grid.bin(of: x)] += 1 }
        }
    }

    /// Clears `sorted` at the first value below the one before it (values after that are not looked at).
    private mutating func noteOrder(_ values: UnsafeBufferPointer<Double>) {
        guard sorted, let first = values.first else { return }
        if first < lastValue {
            sorted = false
            return
        }
        for i in values.indices.dropFirst() where values[i] < values[i - 1] {
            sorted = false
            return
        }
        lastValue = values[values.count - 1]
    }

    /// The column has too many distinct values to count: what was counted becomes the exact
    /// sample, or the grid when it is past the limit already.
    private mutating func leaveCountedMode() {
        defer { valueCounts = ValueCounts() }
        if valueCounts.total > limit {
            let counted = valueCounts.runs()
            let e = Self.quantileEdges(count: counted.count, bins: Self.gridBins, element: counted.element(at:))
            let index = GridIndex(edges: e)
            var counts = [Int](repeating: 0, count: e.count + 1)
            var previous = 0
            for (value, upTo) in zip(counted.values, counted.cumulative) {
                counts[index.bin(of: value)] += upTo - previous
                previous = upTo
            }
            useGrid(index, counts: counts)
            return
        }
        mode = .exact
        // Room for the whole exact sample at once: growing by doubling copied every value
        // about once more and touched twice the pages (only what is written is resident).
        exactValues.reserveCapacity(limit + 1)
        if sorted {
            exactValues.append(contentsOf: valueCounts.runs().expanded())  // they came in order: kept so
        } else {
            valueCounts.appendValues(to: &exactValues)  // sorted once, at the end, with the rest
        }
    }

    /// Grid mode from here on, with these counts per bin.
    private mutating func useGrid(_ index: GridIndex, counts: [Int]) {
        grid = index
        gridCounts = counts
        mode = .gridded
        exactValues = []
    }

    /// Edges for a grid: this sample's own if gridded, else its quantiles.
    public func gridEdges() -> [Double] {
        if let edges { return edges }
        return exactQuantileEdges(bins: Self.gridBins)
    }

    /// Distinct inner quantiles of every value (counted or exact mode, after `finish()`).
    func exactQuantileEdges(bins: Int) -> [Double] {
        switch mode {
        case .counted:
            return Self.quantileEdges(count: runs.count, bins: bins, element: runs.element(at:))
        case .exact:
            var sortedValues = exactValues
            if !sorted { RadixSort.sort(&sortedValues) }
            return Self.quantileEdges(sortedValues, bins: bins)
        case .gridded:
            return []
        }
    }

    /// Points at which both empirical CDFs change, for the exact KS statistic: every value of
    /// an exact sample (sorted, after `finish()`), every distinct value of a counted one.
    var exactPoints: [Double] {
        switch mode {
        case .counted: runs.values
        case .exact: exactValues
        case .gridded: []
        }
    }

    /// The two-sample KS statistic over every value of both (counted or exact, after `finish()`).
    static func exactKSStatistic(_ a: NumericSample, _ b: NumericSample) -> Double {
        if a.mode == .exact, b.mode == .exact { return DriftStatistics.ksStatistic(a.exactValues, b.exactValues) }
        // Both empirical CDFs change only at the samples' values: the largest gap is at one of them.
        let points = a.exactPoints + b.exactPoints
        let n = Double(a.count), m = Double(b.count)
        return DriftStatistics.ksStatistic(cdfA: a.cumulativeCounts(at: points).map { Double($0) / n },
                                           cdfB: b.cumulativeCounts(at: points).map { Double($0) / m })
    }

    private mutating func switchToGrid() {
        finish()
        let e = Self.quantileEdges(exactValues, bins: Self.gridBins)
        // The values are sorted: one walk along them and the edges counts every bin.
        var counts = [Int](repeating: 0, count: e.count + 1)
        var bin = 0
        for v in exactValues {
            while bin < e.count, e[bin] < v { bin += 1 }
            counts[bin] += 1
        }
        useGrid(GridIndex(edges: e), counts: counts)
    }

    /// Number of values <= x. Exact in counted and exact mode; in grid mode exact at the edges.
    public func countAtOrBelow(_ x: Double) -> Int {
        switch mode {
        case .counted:
            return runs.countAtOrBelow(x)
        case .exact:
            return Self.upperBound(exactValues, x)
        case .gridded:
            let edges = grid.edges
            let b = grid.bin(of: x)
            // Bins 0..<b hold values <= edges[b-1] <= x; bin b is counted only when x is its edge.
            var total = 0
            for i in 0..<b { total += gridCounts[i] }
            if b < edges.count, edges[b] == x { total += gridCounts[b] }
            return total
        }
    }

    /// `countAtOrBelow` of each point. In grid mode the bins are summed once for all points:
    /// one sum per point cost 4,096 x 4,096 additions per column when the two files' grids differ.
    func cumulativeCounts(at points: [Double]) -> [Int] {
        guard mode == .gridded else { return points.map(countAtOrBelow) }
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
        quantileEdges(count: sorted.count, bins: bins) { sorted[$0] }
    }

    /// The same over any sorted sample of `count` values, given its k-th smallest.
    static func quantileEdges(count: Int, bins: Int, element: (Int) -> Double) -> [Double] {
        guard count > 0, bins > 1 else { return [] }
        var edges: [Double] = []
        for k in 1..<bins {
            let q = quantile(count: count, Double(k) / Double(bins), element: element)
            if edges.last != q { edges.append(q) }
        }
        return edges
    }

    static func quantile(count: Int, _ q: Double, element: (Int) -> Double) -> Double {
        let position = q * Double(count - 1)
        let lower = Int(position)
        let fraction = position - Double(lower)
        if lower + 1 >= count { return element(count - 1) }
        let low = element(lower)
        return low + (element(lower + 1) - low) * fraction
    }
}
