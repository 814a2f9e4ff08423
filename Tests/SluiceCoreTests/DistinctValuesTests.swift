import Testing
@testable import SluiceCore

@Suite struct DistinctValuesTests {
    /// Values of every length around the eight-byte boundary, with zero bytes and repeats,
    /// through several growths: new exactly when a set of byte arrays says so.
    @Test func insertsLikeASetOfByteStrings() {
        var random = SeededRandom(seed: 23)
        for seed in [0, 1, UInt64.max] {
            let distinct = DistinctValues(seed: seed)
            var reference: Set<[UInt8]> = []
            var disagreements = 0
            for _ in 0..<60_000 {
                let value = (0..<random.next(18)).map { _ in UInt8([0, 48, 49, 50, 255][random.next(5)]) }
                let new = value.withUnsafeBufferPointer { distinct.insert($0) }
                if new != reference.insert(value).inserted { disagreements += 1 }
            }
            #expect(disagreements == 0)
            #expect(reference.count > 10_000)
        }
    }

    @Test func theEmptyValueAndAllZeroValuesAreDistinct() {
        let distinct = DistinctValues()
        for value in [[], [0], [0, 0], [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0]] as [[UInt8]] {
            #expect(value.withUnsafeBufferPointer { distinct.insert($0) })
            #expect(!value.withUnsafeBufferPointer { distinct.insert($0) })
        }
    }
}
