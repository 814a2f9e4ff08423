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
    public private(set) var edges: [Double]?
    private var gridCounts: [Int] = []
    public private(set) var count = 0
    private var sorted = true
    private var gridded = false
    private var lookup = GridLookup(edges: [])

    public init(limit: Int) {
        self.limit = limit
    }

    public var isExact: Bool { edges == nil }

    public mutating func add(_ x: Double) {
        count += 1
        if gridded {
            gridCounts[lookup.bin(of: x)] += 1
            return
        }
        if sorted, let last = values.last, x < last { sorted = false }
        values.append(x)
        if values.count > limit { switchToGrid() }
    }

    public mutating func finish() {
        if !sorted { RadixSort.sort(&values); sorted = true }
    }

    /// Edges for a grid: this sample's own if gridded, else its quantiles.
    public func gridEdges() -> [Double] {
        if let edges { return edges }
        var sortedValues = values
        if !sorted { RadixSort.sort(&sortedValues) }
        return Self.quantileEdges(sortedValues, bins: Self.gridBins)
    }

    private mutating func switchToGrid() {
        finish()
        let e = Self.quantileEdges(values, bins: Self.gridBins)
        var counts = [Int](repeating: 0, count: e.count + 1)
        for v in values { counts[Self.bin(of: v, edges: e)] += 1 }
        edges = e
        lookup = GridLookup(edges: e)
        gridded = true
        gridCounts = counts
        values = []
    }

    /// Number of values <= x. Exact in exact mode; in grid mode exact at the edges.
    public func countAtOrBelow(_ x: Double) -> Int {
        if let edges {
            let b = Self.bin(of: x, edges: edges)
            // Bins 0..<b hold values <= edges[b-1] <= x; bin b is counted only when x is its edge.
            var total = 0
            for i in 0..<b { total += gridCounts[i] }
            if b < edges.count, edges[b] == x { total += gridCounts[b] }
            return total
        }
        return Self.upperBound(values, x)
    }

    /// Cumulative counts at each edge (for grid mode, cheaper than countAtOrBelow per edge).
    func cumulativeCounts(at points: [Double]) -> [Int] {
        if let edges, edges == points {
            var running = 0
            return gridCounts.prefix(edges.count).map { running += $0; return running }
        }
        return points.map(countAtOrBelow)
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

/// Finds a value's grid bin in O(1) on average: a table of 65536 equal slots over the
/// edges' range points at the first edge that can hold the value, then a short scan.
/// Gives exactly `NumericSample.bin(of:edges:)` (slot numbers are monotone in the value).
struct GridLookup: Sendable {
    let edges: [Double]
    let low: Double
    let scale: Double
    let table: [Int32]
    static let slots = 1 << 16

    init(edges: [Double]) {
        self.edges = edges
        guard let first = edges.first, let last = edges.last, last > first else {
            low = 0; scale = 0; table = []
            return
        }
        low = first
        scale = Double(Self.slots - 1) / (last - first)
        var t = [Int32](repeating: 0, count: Self.slots)
        var e = 0
        // table[s] = the first edge whose slot is >= s.
        for s in 0..<Self.slots {
            while e < edges.count, Self.slot(edges[e], first, scale) < s { e += 1 }
            t[s] = Int32(e)
        }
        table = t
    }

    static func slot(_ x: Double, _ low: Double, _ scale: Double) -> Int {
        Int(((x - low) * scale).rounded(.down))
    }

    func bin(of x: Double) -> Int {
        guard !table.isEmpty else { return NumericSample.bin(of: x, edges: edges) }
        if x <= low { return 0 }
        if x > edges[edges.count - 1] { return edges.count }  // also keeps infinities out of slot()
        var i = Int(table[min(Self.slot(x, low, scale), Self.slots - 1)])
        while i < edges.count, edges[i] < x { i += 1 }
        return i
    }
}
