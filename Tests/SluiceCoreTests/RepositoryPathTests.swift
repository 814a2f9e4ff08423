import Testing
@testable import SluiceCore

@Suite struct RepositoryPathTests {
    @Test(arguments: [
        ("..", true), ("../x", true), ("a/..", true), ("a/../b", true), ("a//../b", true),
        ("a", false), ("...", false), ("a..b", false), ("..a/b", false), ("a/b..", false), ("a/.../b", false),
        (".", false), ("./a", false), ("", false), ("a/./b", false),
    ])
    func parentSegmentsAreFoundWhereverTheyStand(path: String, expected: Bool) {
        let obvious = path.split(separator: "/", omittingEmptySubsequences: false).contains("..")
        #expect(obvious == expected)
        #expect(RepositoryPath.hasParentSegment(path) == expected)
    }
}
