/// A reproducible stream of numbers for the property tests: a 64-bit linear congruential
/// generator, fast, and the same failing case on every run.
struct SeededRandom {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    /// A number in 0..<n.
    mutating func next(_ n: Int) -> Int {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Int(state >> 33) % n
    }

    /// Up to `length` bytes drawn from `alphabet`, as text.
    mutating func text(of alphabet: [UInt8], upTo length: Int) -> String {
        let count = next(length + 1)
        return String(decoding: (0..<count).map { _ in alphabet[next(alphabet.count)] }, as: UTF8.self)
    }
}
