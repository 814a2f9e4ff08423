import Testing
import SluiceCore
@testable import SluiceYAML

@Suite struct YAMLParserTests {
    @Test func nodesKeepOneBasedLineAndColumn() throws {
        let doc = try #require(try YAMLParser.parseDocument("a: 1\nb:\n  - x\n  - \"y\"\n", file: "f.yaml"))
        #expect(doc.location == SourceLocation(file: "f.yaml", line: 1, column: 1))
        let b = try #require(doc["b"]?.sequence)
        #expect(b[0].location.line == 3)
        #expect(b[0].location.column == 5)
        #expect(b[1].string == "y")
        #expect(doc["a"]?.int == 1)
    }

    @Test func quotedScalarsStayStrings() throws {
        let doc = try #require(try YAMLParser.parseDocument("a: \"true\"\nb: true\nc: '1.5'\nd: 1.5\ne: ~\n", file: "f"))
        #expect(doc["a"]?.bool == nil)
        #expect(doc["a"]?.string == "true")
        #expect(doc["b"]?.bool == true)
        #expect(doc["c"]?.double == nil)
        #expect(doc["d"]?.double == 1.5)
        #expect(doc["e"]?.isNull == true)
    }

    @Test func multiDocumentStreams() throws {
        let docs = try YAMLParser.parseStream(Array("a: 1\n---\nb: 2\n---\n- 3\n".utf8), file: "m.yaml")
        #expect(docs.count == 3)
        #expect(docs[1]["b"]?.int == 2)
        #expect(docs[2].location.line == 5)
        #expect(throws: YAMLError.self) { try YAMLParser.parseDocument("a: 1\n---\nb: 2\n", file: "m.yaml") }
    }

    @Test func anchorsAliasesAndMergeKeys() throws {
        let text = """
        defaults: &d { timeout: 30m, cache: false }
        a: *d
        b:
          <<: *d
          cache: true
        """
        let doc = try #require(try YAMLParser.parseDocument(text, file: "f"))
        #expect(doc["a"]?["timeout"]?.string == "30m")
        #expect(doc["b"]?["cache"]?.bool == true)
        #expect(doc["b"]?["timeout"]?.string == "30m")
        #expect(doc["a"]?.location.line == 2)
    }

    @Test func syntaxErrorNamesFileLineColumnAndProblem() {
        do {
            _ = try YAMLParser.parseDocument("a: [1, 2\nb: 3\n", file: "bad.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.diagnostic.location.file == "bad.yaml")
            #expect(error.diagnostic.location.line == 2)
            #expect(error.description.hasPrefix("bad.yaml:2:"))
            #expect(error.description.contains("flow sequence"))
        }
    }

    @Test func tabsGetAHint() {
        do {
            _ = try YAMLParser.parseDocument("stages:\n\ttest: {run: x}\n", file: "t.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.diagnostic.location.line == 2)
            #expect(error.diagnostic.hint?.contains("tabs") == true)
        }
    }

    @Test func nonUTF8IsRefusedWithLocation() {
        let bytes: [UInt8] = Array("a: ok\nb: ".utf8) + [0xff, 0xfe, 0x41] + Array("\n".utf8)
        do {
            _ = try YAMLParser.parseDocument(bytes, file: "u.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.diagnostic.location.line == 2)
            #expect(error.description.contains("UTF-8"))
        }
    }

    @Test func billionLaughsIsRefusedNotExpanded() {
        var text = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        let names = "bcdefghij".map(String.init)
        var prev = "a"
        for n in names {
            text += "\(n): &\(n) [" + Array(repeating: "*\(prev)", count: 9).joined(separator: ",") + "]\n"
            prev = n
        }
        do {
            _ = try YAMLParser.parseDocument(text, file: "bomb.yaml")
            Issue.record("expected the bomb to be refused")
        } catch {
            #expect(error.description.contains("YAML bomb"))
            #expect(error.diagnostic.location.file == "bomb.yaml")
        }
    }

    @Test func unknownAliasIsLocated() {
        #expect(throws: YAMLError.self) { try YAMLParser.parseDocument("a: *nope\n", file: "f") }
    }

    @Test func emptyInputHasNoDocument() throws {
        #expect(try YAMLParser.parseDocument("", file: "f") == nil)
        #expect(try YAMLParser.parseDocument("# only a comment\n", file: "f") == nil)
    }
}

@Suite struct YAMLEmitterTests {
    @Test func roundTripsAndIsDeterministic() throws {
        let text = "name: \"model\"\nversion: \"3\"\nreplicas: 2\nlabels:\n  app: iris\nports:\n- 80\n- 443\n"
        let doc = try #require(try YAMLParser.parseDocument(text, file: "f"))
        let once = try YAMLEmitter.emit(doc)
        let again = try YAMLEmitter.emit(try #require(try YAMLParser.parseDocument(once, file: "f")))
        #expect(once == again)
        let back = try #require(try YAMLParser.parseDocument(once, file: "f"))
        #expect(back["version"]?.int == nil, "a quoted number must stay a string")
        #expect(back["version"]?.string == "3")
        #expect(back["replicas"]?.int == 2)
        #expect(back["ports"]?.sequence?.count == 2)
    }

    @Test func multipleDocumentsAreSeparated() throws {
        let docs = try YAMLParser.parseStream(Array("a: 1\n---\nb: 2\n".utf8), file: "f")
        let out = try YAMLEmitter.emit(docs)
        #expect(out.contains("---"))
        #expect(try YAMLParser.parseStream(Array(out.utf8), file: "f").count == 2)
    }
}
