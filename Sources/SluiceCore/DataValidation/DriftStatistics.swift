#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The drift tests, written to agree with scipy on the same data: the two-sample
/// Kolmogorov-Smirnov statistic (`scipy.stats.ks_2samp`), its asymptotic p-value
/// (`scipy.stats.kstwobign.sf(sqrt(n*m/(n+m)) * D)`), Pearson's chi-squared
/// (`scipy.stats.chisquare(f_obs, f_exp)`), and the population stability index.
public enum DriftStatistics {
    /// Proportions below this are raised to it, so empty bins do not make PSI infinite.
    public static let proportionFloor = 1e-4

    /// The two-sided KS statistic: the largest gap between the two empirical CDFs,
    /// evaluated at every value of both (sorted) samples.
    public static func ksStatistic(_ a: [Double], _ b: [Double]) -> Double {
        guard !a.isEmpty, !b.isEmpty else { return .nan }
        let n1 = Double(a.count), n2 = Double(b.count)
        var i = 0, j = 0
        var maxDiff = 0.0, minDiff = 0.0
        while i < a.count || j < b.count {
            let x = j >= b.count || (i < a.count && a[i] <= b[j]) ? a[i] : b[j]
            while i < a.count, a[i] <= x { i += 1 }
            while j < b.count, b[j] <= x { j += 1 }
            let diff = Double(i) / n1 - Double(j) / n2
            maxDiff = max(maxDiff, diff)
            minDiff = min(minDiff, diff)
        }
        return max(maxDiff, -minDiff)
    }

    /// The KS statistic from CDF values at shared evaluation points (grid mode).
    public static func ksStatistic(cdfA: [Double], cdfB: [Double]) -> Double {
        zip(cdfA, cdfB).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    /// Kolmogorov's limiting distribution, survival function (`scipy.special.kolmogorov`).
    public static func kolmogorovSurvival(_ x: Double) -> Double {
        if x.isNaN { return .nan }
        if x <= 0 { return 1 }
        if x < 0.8 {
            // Small x: 1 - CDF with CDF = sqrt(2 pi)/x * sum exp(-(2k-1)^2 pi^2 / (8 x^2)).
            let w = Double.pi * Double.pi / (8 * x * x)
            var sum = 0.0
            var k = 1.0
            while true {
                let term = exp(-k * k * w)
                sum += term
                if term < 1e-20 * sum || k > 200 { break }
                k += 2
            }
            return max(0, 1 - (2 * Double.pi).squareRoot() / x * sum)
        }
        var sum = 0.0
        var sign = 1.0
        var k = 1.0
        while true {
            let term = exp(-2 * k * k * x * x)
            sum += sign * term
            if term < 1e-20 || k > 200 { break }
            sign = -sign
            k += 1
        }
        return min(1, max(0, 2 * sum))
    }

    /// Asymptotic two-sided p-value of a KS statistic for sample sizes n and m.
    public static func ksPValue(statistic d: Double, n: Int, m: Int) -> Double {
        let en = Double(n) * Double(m) / Double(n + m)
        return kolmogorovSurvival(en.squareRoot() * d)
    }

    /// Pearson's chi-squared statistic and p-value with `observed.count - 1` degrees of freedom.
    public static func chiSquared(observed: [Double], expected: [Double]) -> (statistic: Double, pValue: Double) {
        var stat = 0.0
        for (o, e) in zip(observed, expected) { stat += (o - e) * (o - e) / e }
        let dof = Double(observed.count - 1)
        guard dof > 0 else { return (stat, .nan) }
        return (stat, regularizedUpperGamma(dof / 2, stat / 2))
    }

    /// Population stability index over matching bins of two count vectors, each
    /// proportion floored at `proportionFloor`.
    public static func psi(reference: [Int], current: [Int]) -> Double {
        let r = floored(reference), c = floored(current)
        var total = 0.0
        for (p, q) in zip(r, c) { total += (q - p) * log(q / p) }
        return total
    }

    /// Proportions with empty bins raised to the floor (not renormalised, the usual PSI convention).
    static func floored(_ counts: [Int]) -> [Double] {
        let total = Double(counts.reduce(0, +))
        return counts.map { max(total > 0 ? Double($0) / total : 0, proportionFloor) }
    }

    /// Q(a, x) = Gamma(a, x) / Gamma(a): series below a+1, Lentz's continued fraction above.
    public static func regularizedUpperGamma(_ a: Double, _ x: Double) -> Double {
        if x.isNaN || a <= 0 { return .nan }
        if x <= 0 { return 1 }
        if x.isInfinite { return 0 }
        let logPrefix = a * log(x) - x - lgamma(a)
        if x < a + 1 {
            var sum = 1 / a, term = 1 / a, n = a
            for _ in 0..<10_000 {
                n += 1
                term *= x / n
                sum += term
                if abs(term) < abs(sum) * 1e-16 { break }
            }
            return max(0, 1 - exp(logPrefix) * sum)
        }
        let tiny = 1e-300
        var b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d
        for i in 1...10_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return exp(logPrefix) * h
    }
}
