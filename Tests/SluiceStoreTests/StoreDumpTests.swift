import Foundation
import SluiceCore
import Testing
import SluiceTestSupport
@testable import SluiceStore

/// `sluice store export` / `import` at the store: a store of 1,000 runs goes out and comes back
/// the same, and what is wrong with a dump is said with its line.
@Suite struct StoreDumpTests {
    func dump(_ store: RunStore) throws -> [String] {
        var lines: [String] = []
        try store.export { lines.append($0) }
        return lines
    }

    func importing(_ lines: [String], into folder: String, database: DatabaseSettings? = nil) throws(RunStore.StoreError) -> RunStore.Imported {
        var rest = lines[...]
        return try RunStore.importDump(into: folder, database: database, source: "dump.jsonl") { rest.popFirst() }
    }

    /// 1,000 runs with stages, artifacts, reports (text that JSON must escape, reals of every
    /// size), registry versions, promotions (append-only), approvals and a deleted run's id.
    func filled(_ folder: String) throws -> RunStore {
        let store = try RunStore(stateDirectory: folder)
        var random = SystemRandomNumberGenerator()
        for i in 0..<1_000 {
            let run = try store.insert(RunRecord(repository: "iris", ref: "refs/heads/main", commit: String(format: "%040x", i), baseCommit: nil,
                                                 trigger: i % 7 == 0 ? "schedule" : "commit", createdAt: 1_700_000_000 + Double(i) * 0.001),
                                       stages: ["train", "evaluate"].map { StageResultRecord(runId: 0, stage: $0, status: .pending, decision: "run", reasons: "every commit", cacheKey: "key-\(i)-\($0)") })
            var train = try #require(try store.stages(of: run.id!).first { $0.stage == "train" })
            train.status = .succeeded
            train.startedAt = Double.random(in: 0..<1e12, using: &random)
            train.finishedAt = Double(i) / 3
            train.exitCode = 0
            train.logPath = folder + "/logs/run-\(run.id!)/train.log"
            let content = "{\"accuracy\": \(Double.random(in: 0...1, using: &random)), \"note\": \"line\\nbreak \\\"quoted\\\" 🚀 \\u0001 é\", \"tiny\": 5e-324, \"big\": 1.7976931348623157e308}"
            try store.complete(train, artifacts: [ArtifactRecord(runId: run.id!, stage: "train", path: "model.bin", digest: "sha256:" + String(format: "%064x", i),
                                                                 kind: .file, size: Int64(i), cacheKey: "key-\(i)-train", commit: run.commit, lineage: "{}", createdAt: 5)],
                               reports: [ReportRecord(runId: run.id!, stage: "train", kind: "metrics", path: "m.json", content: content)])
            try store.setRunStatus(run.id!, .succeeded, at: 1_700_000_100 + Double(i), message: i % 3 == 0 ? nil : "run \(i) – done")
            if i % 100 == 0 {
                let version = try store.registerVersion(model: "iris", commit: run.commit, runId: run.id, metrics: content, datasetVersions: "{}",
                                                        artifactDigest: "sha256:" + String(format: "%064x", i), at: Double(i))
                _ = try store.appendPromotion(PromotionRecord(model: "iris", version: version.version, action: .promote, commit: run.commit, runId: run.id,
                                                              previousVersion: nil, actor: "gate", reason: "better by \(i)", createdAt: Double(i)),
                                              expectedVersion: try store.productionVersion(model: "iris"))
                try store.approve(repository: "iris", ref: "refs/heads/mr-\(i)", commit: run.commit, by: "ana", at: Double(i))
            }
        }
        // The last run is deleted: its id must not be given again after an import.
        let last = try store.insert(RunRecord(repository: "iris", ref: nil, commit: "f", baseCommit: nil, trigger: "commit", createdAt: 1), stages: [])
        try store.write { db in try db.execute("DELETE FROM runs WHERE id = ?", [last.id!]) }
        return store
    }

    /// SQLite → export → PostgreSQL → export → SQLite → export: the same lines each time (but
    /// for the state folder the header and the log paths name), the reports byte for byte, run
    /// ids going on after a deleted one, and the promotion log append-only on each.
    @Test func aThousandRunsRoundTripLineForLineBetweenSQLiteAndPostgreSQL() throws {
        let source = TemporaryDirectory(prefix: "sluice-source"), middle = TemporaryDirectory(prefix: "sluice-middle"),
            target = TemporaryDirectory(prefix: "sluice-target")
        let server = try PostgresServer()
        let database = try server.createDatabase()
        let store = try filled(source.path)
        let first = try dump(store)
        #expect(first.count > 5_000)
        func expectSame(_ lines: [String], from folder: String, _ label: String) {
            #expect(lines.count == first.count, "\(label)")
            let expected = first.dropFirst().map { $0.replacingOccurrences(of: source.path + "/logs/", with: folder + "/logs/") }
            let differing = zip(lines.dropFirst(), expected).enumerated().first { $0.element.0 != $0.element.1 }
            #expect(differing == nil, "\(label) line \((differing?.offset ?? 0) + 2): \(differing?.element.0 ?? "") instead of \(differing?.element.1 ?? "")")
        }

        let imported = try importing(first, into: middle.path, database: database)
        #expect(imported.rows["runs"] == 1_000 && imported.rows["stage_results"] == 2_000 && imported.rows["promotions"] == 10)
        #expect(!FileManager.default.fileExists(atPath: middle.path + "/sluice.sqlite"))
        let inPostgres = try RunStore(stateDirectory: middle.path, database: database)
        let second = try dump(inPostgres)
        expectSame(second, from: middle.path, "PostgreSQL's export")

        _ = try importing(second, into: target.path)
        let back = try RunStore(stateDirectory: target.path)
        expectSame(try dump(back), from: target.path, "SQLite's export of PostgreSQL's")

        for copy in [inPostgres, back] {
            for id in [Int64(1), 500, 1_000] {
                #expect(try copy.reports(of: id).map(\.content) == store.reports(of: id).map(\.content))
            }
            #expect(try copy.productionVersion(model: "iris") == store.productionVersion(model: "iris"))
            // Run ids go on after the deleted one, and the promotion log stays append-only.
            let next = try copy.insert(RunRecord(repository: "iris", ref: nil, commit: "g", baseCommit: nil, trigger: "commit", createdAt: 2), stages: [])
            #expect(next.id == 1_002)
            #expect(throws: (any Error).self) { try copy.write { db in try db.execute("DELETE FROM promotions") } }
        }
    }

    @Test(arguments: Backend.allCases) func whatIsWrongWithADumpIsSaidWithItsLineAndLeavesNothingBehind(_ backend: Backend) throws {
        let source = TemporaryDirectory(prefix: "sluice-source")
        let store = try RunStore(stateDirectory: source.path)
        _ = try store.insert(RunRecord(repository: "iris", ref: nil, commit: "c", baseCommit: nil, trigger: "commit", createdAt: 1),
                             stages: [StageResultRecord(runId: 0, stage: "a", status: .pending, decision: "run", reasons: "r", cacheKey: "k")])
        let lines = try dump(store)
        let fixture = try StoreFixture(backend)

        func failure(_ lines: [String]) -> String {
            let target = TemporaryDirectory(prefix: "sluice-target")
            do {
                _ = try importing(lines, into: target.path, database: fixture.database)
                return "imported"
            } catch {
                #expect(!FileManager.default.fileExists(atPath: target.path + "/sluice.sqlite"), "a failed import leaves no store")
                return error.description
            }
        }
        #expect(failure([]) == "dump.jsonl is empty: it holds no store export")
        #expect(failure(["{\"rows\": 1}"]).hasPrefix("dump.jsonl:1: not a Sluice store export"))
        let newer = lines[0].replacingOccurrences(of: "\"migrations\":[", with: "\"migrations\":[\"v99: from the future\",")
        #expect(failure([newer] + lines.dropFirst()).contains("dump.jsonl:1: the export's schema"))
        var cut = lines
        cut[2] = String(cut[2].prefix(cut[2].count / 2))
        #expect(failure(cut).hasPrefix("dump.jsonl:3: not a row of a store export ("))
        var unknown = lines
        unknown[1] = unknown[1].replacingOccurrences(of: "\"commit\":", with: "\"kommit\":")
        #expect(failure(unknown) == "dump.jsonl:2: the table 'runs' has no column 'kommit' here")
        // A row twice: rows go in many to a statement, yet the error names the line of the second copy.
        #expect(failure([lines[0], lines[1]] + lines.dropFirst(1)).hasPrefix("dump.jsonl:3: the runs row was refused: "))
        // A stage row whose run is missing: the foreign key fails (at the end on SQLite, at the row
        // on PostgreSQL), and nothing is kept.
        #expect(failure([lines[0]] + lines.dropFirst(2)).lowercased().contains("foreign key"))

        // After all that the destination is still empty: the dump goes in; a second time it does not.
        let target = TemporaryDirectory(prefix: "sluice-target")
        #expect(try importing(lines, into: target.path, database: fixture.database).rows["runs"] == 1)
        #expect {
            _ = try importing(lines, into: target.path, database: fixture.database)
        } throws: {
            let said = "\($0)"
            return said.contains("sluice.sqlite exists: an import builds a new store; choose an empty state folder")
                || said.contains("holds a run store: an import builds a new store; name an empty database")
        }
    }
}
