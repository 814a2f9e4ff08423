import Foundation
import Testing
import SluiceTestSupport

/// Every YAML example in README.md and the documentation site (`docs/content`) is taken from
/// the page itself and checked with Sluice: a `sluice.yaml` (whole, or a section placed in a
/// minimal one), a promotion policy, a data schema, or a controller configuration. An example
/// that stops working fails here. Kubernetes objects (`apiVersion:`) are Argo CD's, Flux's or
/// the cluster's to read, not Sluice's: they are only parsed.
@Suite struct DocumentationExamplesTests {
    let sluice = RepositoryLayout.sluiceBinary

    /// README.md and every page of the documentation site, relative to the repository.
    static func pages() -> [String] {
        let root = RepositoryLayout.root()
        let docs = FileManager.default.enumerator(atPath: root + "/docs/content")?.compactMap { $0 as? String }.filter { $0.hasSuffix(".md") } ?? []
        return ["README.md"] + docs.sorted().map { "docs/content/" + $0 }
    }

    /// The ```yaml blocks of the pages, with the place each starts at (`page:line`).
    static func examples() throws -> [(line: String, text: String)] {
        var result: [(String, String)] = []
        for page in pages() {
            let lines = try String(contentsOfFile: RepositoryLayout.root() + "/" + page, encoding: .utf8).components(separatedBy: "\n")
            var open: (Int, [String])?
            for (n, line) in lines.enumerated() {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if open == nil, trimmed == "```yaml" { open = (n + 2, []) } else if let o = open, trimmed == "```" {
                    result.append(("\(page):\(o.0)", o.1.joined(separator: "\n") + "\n"))
                    open = nil
                } else if open != nil { open!.1.append(line) }
            }
        }
        return result
    }

    /// A minimal pipeline around a section, or the example itself when it is a whole `sluice.yaml`.
    static func spec(around example: String) -> String {
        let body = example.split(separator: "\n", omittingEmptySubsequences: false).drop { $0.hasPrefix("#") }.joined(separator: "\n")
        if body.hasPrefix("version: 1") { return body }
        let topLevel = ["gate:", "deploy:", "sync:", "datasets:"]
        if topLevel.contains(where: { body.hasPrefix($0) }) {
            return "version: 1\nstages:\n  evaluate: { run: \"true\", metrics: m.json, outputs: [model/] }\n" + body
        }
        // A stage: indent it under `stages:`; an example about `when` alone gets a command.
        var lines = body.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "  " + $0 }
        if !body.contains("run:"), !body.contains("uses:") { lines.insert("    run: \"true\"", at: 1) }
        return "version: 1\ndatasets:\n  iris: { path: data/iris.csv }\nstages:\n" + lines.joined(separator: "\n")
    }

    /// Validates a spec in a folder, creating each file or folder it names that is missing
    /// (the examples name the user's files), until only real problems would remain.
    func validate(_ spec: String, line: String, files: [String: String] = [:]) throws {
        let dir = TemporaryDirectory(prefix: "sluice-readme")
        dir.write("sluice.yaml", spec)
        for (path, text) in files { dir.write(path, text) }
        for _ in 0..<20 {
            let r = try ProcessRunner.run(sluice, ["validate", dir.path])
            if r.status == 0 { return }
            let missing = (r.stdout + r.stderr).components(separatedBy: "\n").compactMap { text -> (String, Bool)? in
                guard text.contains("does not exist in the repository"), let open = text.range(of: " '", options: .backwards),
                      let close = text[open.upperBound...].firstIndex(of: "'") else { return nil }
                return (String(text[open.upperBound..<close]), text.contains("folder"))
            }
            guard !missing.isEmpty else {
                Issue.record("\(line): the example is rejected:\n\(r.stdout)\(r.stderr)")
                return
            }
            for (path, folder) in missing {
                if folder || path.hasSuffix("/") {
                    try FileManager.default.createDirectory(atPath: dir.path + "/" + path, withIntermediateDirectories: true)
                } else if path.hasSuffix(".dvc") {
                    dir.write(path, "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 1\n  path: \(URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent)\n")
                } else if path.hasPrefix("policies/") {
                    dir.write(path, "rules:\n  - { metric: accuracy, direction: higher, min: 0.5 }\n")
                } else if path.hasPrefix("schemas/") {
                    // validate decodes the schemas sluice.yaml names: a placeholder that decodes.
                    dir.write(path, "columns:\n  x: { type: number }\n")
                } else if path == "dvc.lock" {
                    dir.write(path, "schema: '2.0'\nstages:\n  prepare:\n    cmd: true\n    outs:\n    - path: data/raw\n      md5: 0123456789abcdef0123456789abcdef.dir\n")
                } else {
                    dir.write(path, "")
                }
            }
        }
        Issue.record("\(line): still missing files after 20 rounds")
    }

    @Test func everyYAMLExampleInTheReadmeAndTheSiteIsAccepted() throws {
        let examples = try Self.examples()
        #expect(examples.count >= 20)
        for (line, text) in examples {
            if text.contains("apiVersion:") {
                let dir = TemporaryDirectory(prefix: "sluice-readme")
                let file = dir.write("objects.yaml", text)
                let r = try ProcessRunner.run("python3", ["-c", "import sys, yaml; list(yaml.safe_load_all(open(sys.argv[1])))", file])
                #expect(r.status == 0, "\(line): not YAML: \(r.stderr)")
            } else if text.hasPrefix("rules:") || text.contains("\nrules:") {
                try validate("version: 1\nstages:\n  evaluate: { run: \"true\", metrics: m.json }\ngate: { policy: policies/p.yaml }\n",
                             line: line, files: ["policies/p.yaml": text])
            } else if text.contains("repositories:") {
                let dir = TemporaryDirectory(prefix: "sluice-readme")
                let file = dir.write("controller.yaml", text)
                // Every secret the example names is set (watch --check also checks they are).
                var secrets = ["SLUICE_FORGE_TOKEN": "x"]
                for match in text.matches(of: /-env: *([A-Z_][A-Z0-9_]*)/) { secrets[String(match.1)] = "x" }
                for match in text.matches(of: /(?:access-key-id|secret-access-key|session-token): *([A-Z_][A-Z0-9_]*)/) { secrets[String(match.1)] = "x" }
                for match in text.matches(of: /url-env: *([A-Z_][A-Z0-9_]*)/) { secrets[String(match.1)] = "https://receiver.example.com/hook" }
                for match in text.matches(of: /store: *\{ *url-env: *([A-Z_][A-Z0-9_]*)/) { secrets[String(match.1)] = "postgres://sluice@db.example/sluice" }
                let r = try ProcessRunner.run(sluice, ["watch", "--config", file, "--check"], environment: secrets)
                #expect(r.status == 0, "\(line): \(r.stderr)")
            } else if text.contains("columns:") {
                let dir = TemporaryDirectory(prefix: "sluice-readme")
                let schema = dir.write("schema.yaml", text)
                let data = dir.write("d.csv", "sepal_length,species,sample_id,note\n5.1,setosa,S000001,\n")
                let r = try ProcessRunner.run(sluice, ["validate-data", data, "--schema", schema])
                #expect(r.status != 2, "\(line): the schema is rejected: \(r.stdout)\(r.stderr)")
                #expect(!r.stderr.contains("schema.yaml:"), "\(line): \(r.stderr)")
            } else {
                try validate(Self.spec(around: text), line: line)
            }
        }
    }
}

/// The README's comparison table claims capabilities; each claim names the test that proves it,
/// and the test exists under that name (a renamed or deleted test fails here).
@Suite struct ComparisonTableTests {
    @Test func everyClaimLinksATestThatExists() throws {
        let root = RepositoryLayout.root()
        let readme = try String(contentsOfFile: root + "/README.md", encoding: .utf8)
        let start = try #require(readme.range(of: "<!-- --8<-- [start:comparison] -->"))
        let end = try #require(readme.range(of: "<!-- --8<-- [end:comparison] -->"))
        let rows = readme[start.upperBound..<end.lowerBound].split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| |") }
        #expect(rows.count >= 12)
        // Rows that describe rather than claim: what each tool is, how many clusters, maturity.
        let descriptive = ["what it is", "clusters", "maturity"]
        for row in rows {
            let cells = row.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            let (claim, sluice) = (cells[1], cells[2])
            if descriptive.contains(claim) { continue }
            let links = sluice.matches(of: /\]\((Tests\/[A-Za-z\/]+\.swift)\)((?:,? ?`[A-Za-z]+`)*)/)
            #expect(!links.isEmpty, "'\(claim)' claims without naming a test: \(sluice)")
            for link in links {
                let path = String(link.1)
                let source = try String(contentsOfFile: root + "/" + path, encoding: .utf8)
                for name in link.2.matches(of: /`([A-Za-z]+)`/) {
                    #expect(source.contains("func \(name.1)("), "'\(claim)' names \(name.1), which \(path) does not define")
                }
            }
        }
    }
}
