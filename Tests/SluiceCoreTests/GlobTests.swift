import Testing
@testable import SluiceCore

@Suite struct GlobTests {
    @Test func doubleStarSpansFolders() throws {
        let g = try Glob("src/**")
        #expect(g.matches("src/a.py"))
        #expect(g.matches("src/deep/er/b.py"))
        #expect(!g.matches("src"))
        #expect(!g.matches("srcx/a.py"))
        #expect(g.isWholeFolder)
        #expect(g.literalPrefix == "src")
    }

    @Test func starStaysInOneSegment() throws {
        let g = try Glob("src/*.py")
        #expect(g.matches("src/a.py"))
        #expect(!g.matches("src/x/a.py"))
        #expect(!g.isWholeFolder)
    }

    @Test func doubleStarInTheMiddleMatchesZeroOrMoreFolders() throws {
        let g = try Glob("src/**/test_*.py")
        #expect(g.matches("src/test_a.py"))
        #expect(g.matches("src/a/b/test_a.py"))
        #expect(!g.matches("src/a/b/a.py"))
        #expect(g.literalPrefix == "src")
    }

    @Test func classesAndQuestionMarks() throws {
        let g = try Glob("data/part-[0-9]?.csv")
        #expect(g.matches("data/part-1a.csv"))
        #expect(!g.matches("data/part-xa.csv"))
        let n = try Glob("[!.]*")
        #expect(n.matches("params.yaml"))
        #expect(!n.matches(".hidden"))
    }

    @Test func trailingSlashMeansEverythingBelow() throws {
        #expect(try Glob("model/").matches("model/weights.bin"))
    }

    @Test func escapedWildcardsAreLiteralCharacters() throws {
        let g = try Glob(#"data/a\*b.csv"#)
        #expect(g.matches("data/a*b.csv"))
        #expect(!g.matches("data/axb.csv"))
        #expect(g.literalPath == "data/a*b.csv")
    }

    @Test func emptyAndDotSegmentsAddNothing() throws {
        #expect(try Glob("./src//models/./**/**/").segments == [.literal("src"), .literal("models"), .anyDepth])
        #expect(try Glob("a/**/").segments == [.literal("a"), .anyDepth])
        #expect(try Glob("./").segments == [.anyDepth])
        #expect(throws: Glob.SyntaxError.empty) { try Glob("./.") }
    }

    @Test func namesWithSpacesQuotesAndUnicode() throws {
        let g = try Glob("data/**")
        #expect(g.matches("data/my file $(rm -rf).csv"))
        #expect(g.matches("data/ünïcödé/\"q\".csv"))
    }

    @Test(arguments: [
        ("", Glob.SyntaxError.empty),
        ("/src/**", .absolute),
        ("../x", .parentReference),
        ("src/[ab", .unclosedClass("[ab")),
        ("src**", .doubleStarInSegment("src**")),
    ])
    func patternsThatCannotMatchAreRefused(pattern: String, expected: Glob.SyntaxError) {
        #expect(throws: expected) { try Glob(pattern) }
    }
}

@Suite struct GlobLiteralTests {
    @Test func plainPathsAreLiteral() throws {
        #expect(try Glob("params.yaml").literalPath == "params.yaml")
        #expect(try Glob("configs/train.yaml").literalPath == "configs/train.yaml")
        #expect(try Glob("configs/*.yaml").literalPath == nil)
        #expect(try Glob("src/**").literalPath == nil)
    }
}
