#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Mann–Whitney U test of two independent samples, one-sided, with the normal
/// approximation corrected for ties and for continuity — what
/// `scipy.stats.mannwhitneyu(x, y, alternative=..., use_continuity=True, method="asymptotic")`
/// computes, to agree with it on the same samples. Kayenta judges canaries with this test: it
/// assumes nothing about the shape of the distributions, which latencies and error ratios never
/// follow.
public enum MannWhitney {
    public enum Alternative: Sendable {
        /// `x` tends to be larger than `y`.
        case greater
        /// `x` tends to be smaller than `y`.
        case less
    }

    public struct Result: Sendable, Hashable {
        /// U of `x`: the number of pairs (x, y) with x > y, ties counted half.
        public var u: Double
        public var z: Double
        /// One-sided; 1 when every value of both samples is the same (no evidence either way).
        public var p: Double
    }

    /// nil when either sample is empty.
    public static func test(_ x: [Double], _ y: [Double], alternative: Alternative) -> Result? {
        let (n1, n2) = (Double(x.count), Double(y.count))
        guard !x.isEmpty, !y.isEmpty else { return nil }
        let (ranks, tieTerm) = averageRanks(x + y)
        let rankSumX = ranks.prefix(x.count).reduce(0, +)
        let u1 = rankSumX - n1 * (n1 + 1) / 2
        let u = alternative == .greater ? u1 : n1 * n2 - u1
        let n = n1 + n2
        let variance = n1 * n2 / 12 * ((n + 1) - tieTerm / (n * (n - 1)))
        guard variance > 0 else { return Result(u: u1, z: 0, p: 1) }
        let z = (u - n1 * n2 / 2 - 0.5) / variance.squareRoot()
        return Result(u: u1, z: z, p: 0.5 * erfc(z / 2.0.squareRoot()))
    }

    /// The rank of each value (1-based, ties given the mean of the ranks they share) in input
    /// order, and Σ(t³ − t) over the groups of t tied values.
    static func averageRanks(_ values: [Double]) -> (ranks: [Double], tieTerm: Double) {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = [Double](repeating: 0, count: values.count)
        var tieTerm = 0.0
        var start = 0
        while start < order.count {
            var end = start + 1
            while end < order.count, values[order[end]] == values[order[start]] { end += 1 }
            let rank = Double(start + end + 1) / 2  // the mean of ranks start+1 ... end
            for i in start..<end { ranks[order[i]] = rank }
            let t = Double(end - start)
            tieTerm += t * t * t - t
            start = end
        }
        return (ranks, tieTerm)
    }
}
