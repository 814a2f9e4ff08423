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

    /// Nodes live in their document's arena; reading, comparing and changing them behaves as
    /// plain values would (the decoders rely on each of these).
    @Test func arenaNodesReadCompareAndChangeAsValues() throws {
        let text = "a: &x !!str 12\nb: *x\nc: [1, {k: v}]\n\"quoted key\": ''\n~: null-key\n"
        let doc = try #require(try YAMLParser.parseDocument(text, file: "f.yaml"))
        let again = try #require(try YAMLParser.parseDocument(text, file: "f.yaml"))
        #expect(doc == again)
        #expect(doc.hashValue == again.hashValue)
        // An alias has its anchor's content and tag, at its own place.
        let b = try #require(doc["b"])
        #expect(b.string == "12" && b.tag == "tag:yaml.org,2002:str" && b.int == nil)
        #expect(b.location == SourceLocation(file: "f.yaml", line: 2, column: 4))
        #expect(b.value == doc["a"]?.value)
        #expect(doc["c"]?.sequence?.count == 2 && doc["c"]?.isScalar == false && doc["c"]?.kindName == "a list")
        #expect(doc["c"]?.sequence?[1]["k"]?.string == "v")
        #expect(doc["quoted key"]?.string == "" && doc["quoted key"]?.isNull == false)
        #expect(doc[""] == nil)  // a null key is no key
        #expect(doc["missing"] == nil && b["x"] == nil && b.mapping == nil && b.sequence == nil)
        // Changing a node keeps what was not changed, and leaves the document as it was.
        var changed = b
        changed.value = .scalar(Scalar("13"))
        #expect(changed.location == b.location && changed.tag == b.tag && changed.string == "13")
        #expect(doc["b"]?.string == "12")
        var moved = doc["c"]!
        moved.location = SourceLocation(file: "g", line: 9, column: 9)
        #expect(moved.value == doc["c"]?.value && moved != doc["c"])
    }

    @Test func filesBeyondTheByteLimitAreRefusedWithAHint() {
        #expect(throws: YAMLError.self) { try YAMLParser.parseStream(Array("a: 1\nb: 2\n".utf8), file: "big.yaml", byteLimit: 8) }
        do {
            _ = try YAMLParser.parseStream(Array("a: 1\nb: 2\n".utf8), file: "big.yaml", byteLimit: 8)
        } catch {
            #expect(error.description.hasPrefix("big.yaml:1:1"))
            #expect(error.description.contains("at most 8 bytes"))
        }
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

    /// libyaml stops a line after an indentation mistake and says only "did not find expected
    /// key": the hint names both lines and what to look for.
    @Test(arguments: [
        ("version: 1\nstages:\n  lint:\n    run: ruff check .\n\n   needs: [x]\n", 6, "check the indentation of line 4 or 6"),
        ("stages:\n  lint:\n    run: echo a: b\n", 3, "quote a value that contains ': '"),
        ("items:\n  - a\n - b\n", 3, "check the indentation of line 2 or 3: the keys of one mapping (and the '- ' items of one list)"),
    ])
    func indentationMistakesGetAHintNamingTheLineBefore(text: String, line: Int, hint: String) {
        do {
            _ = try YAMLParser.parseDocument(text, file: "t.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.diagnostic.location.line == line, "\(error.diagnostic)")
            #expect(error.diagnostic.hint?.contains(hint) == true, "\(error.diagnostic)")
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
