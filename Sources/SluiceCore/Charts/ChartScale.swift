/// A linear scale from data values to pixels, over a range with "nice" ends and ticks (1, 2 or
/// 5 times a power of ten) that fits the data; `bounded` keeps it inside 0...1 (accuracy, F1, AUC:
/// the axis of a metric that cannot pass 1 does not go past it).
struct ChartScale {
    let low: Double
    let high: Double
    let ticks: [Double]
    let pixelLow: Double
    let pixelHigh: Double

    init(values: [Double], bounded: Bool, pixels: (Double, Double), includeZero: Bool = false) {
        var lo = values.filter(\.isFinite).min() ?? 0
        var hi = values.filter(\.isFinite).max() ?? 1
        if includeZero { lo = min(lo, 0); hi = max(hi, 0) }
        if hi - lo < 1e-12 {
            let pad = max(abs(hi) * 0.05, 0.01)
            lo -= pad
            hi += pad
        }
        let step = Self.step(for: (hi - lo) / 5)
        lo = (lo / step).rounded(.down) * step
        hi = (hi / step).rounded(.up) * step
        if bounded { lo = max(lo, 0); hi = min(hi, 1) }
        var ticks: [Double] = []
        var t = lo
        while t <= hi + step * 1e-9, ticks.count < 12 {
            ticks.append((t / step).rounded() * step)
            t += step
        }
        self.low = lo
        self.high = hi
        self.ticks = ticks
        self.pixelLow = pixels.0
        self.pixelHigh = pixels.1
    }

    func pixel(_ v: Double) -> Double {
        guard high > low else { return pixelLow }
        return pixelLow + (v - low) / (high - low) * (pixelHigh - pixelLow)
    }

    static func step(for rough: Double) -> Double {
        guard rough.isFinite, rough > 0 else { return 1 }
        var power = 1.0
        while power * 10 <= rough { power *= 10 }
        while power > rough { power /= 10 }
        let fraction = rough / power
        return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power
    }
}
