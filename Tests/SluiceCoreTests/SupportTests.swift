import Testing
@testable import SluiceCore

@Suite struct DurationTextTests {
    @Test func parsesUnitsAndCombinations() {
        #expect(DurationText.seconds("90s") == 90)
        #expect(DurationText.seconds("30m") == 1800)
        #expect(DurationText.seconds("1h30m") == 5400)
        #expect(DurationText.seconds("2d") == 172_800)
        #expect(DurationText.seconds("500ms") == 1)
        #expect(DurationText.seconds("1.5h") == 5400)
    }

    @Test func refusesWhatIsNotADuration() {
        for bad in ["", "30", "30x", "m30", "-5s", "0s", "1h 30"] {
            #expect(DurationText.seconds(bad) == nil, "\(bad)")
        }
    }

    @Test func formatsShortest() {
        #expect(DurationText.format(seconds: 5400) == "1h30m")
        #expect(DurationText.format(seconds: 59) == "59s")
    }
}

@Suite struct SuggestionTests {
    @Test func suggestsNearestKey() {
        #expect(Suggestion.nearest(to: "need", in: SpecKeys.stage) == "needs")
        #expect(Suggestion.nearest(to: "timout", in: SpecKeys.stage) == "timeout")
        #expect(Suggestion.nearest(to: "outptus", in: SpecKeys.stage) == "outputs")
        #expect(Suggestion.nearest(to: "zzzzzzzz", in: SpecKeys.stage) == nil)
    }

    @Test func distance() {
        #expect(Suggestion.distance("kitten", "sitting") == 3)
        #expect(Suggestion.distance("", "abc") == 3)
    }
}

@Suite struct NeedsGraphTests {
    func stages(_ pairs: [(String, [String])]) -> [StageSpec] {
        pairs.map { StageSpec(name: $0.0, location: SourceLocation(file: "f", line: 1, column: 1), command: .shell("x"), needs: $0.1) }
    }

    @Test func findsEachCycleOnce() {
        let g = NeedsGraph(stages: stages([("a", ["b"]), ("b", ["c"]), ("c", ["a"]), ("d", ["a"])]))
        #expect(g.cycles() == [["a", "b", "c", "a"]])
    }

    @Test func ordersDependenciesFirstKeepingFileOrder() {
        let g = NeedsGraph(stages: stages([("evaluate", ["train"]), ("lint", []), ("train", ["test", "validate"]), ("test", ["lint"]), ("validate", [])]))
        #expect(g.cycles().isEmpty)
        #expect(g.topologicalOrder() == ["lint", "test", "validate", "train", "evaluate"])
        #expect(g.ancestors(of: "evaluate") == ["train", "test", "validate", "lint"])
    }
}
