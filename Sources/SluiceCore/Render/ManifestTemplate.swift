import Mustache

/// A manifest template (Mustache, rendered as plain text: no HTML escaping). Before
/// rendering, every tag is checked against the names `DeployFacts` provides, so a typo
/// is an error at file:line:col rather than an empty string in a manifest.
public enum ManifestTemplate {
    public static func render(_ text: String, file: String, facts: DeployFacts) throws(DiagnosticsError) -> String {
        let problems = check(text, file: file, names: facts.names)
        if !problems.isEmpty { throw DiagnosticsError(problems) }
        // swift-mustache's parser slows down quadratically with template size, so each YAML
        // document (split at `---` lines outside any section) is rendered on its own.
        var rendered: [String] = []
        for chunk in documents(text) {
            let template: MustacheTemplate
            do {
                // The pragma goes on the chunk's first line so reported lines keep their numbers.
                template = try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + chunk)
            } catch {
                throw DiagnosticsError([.error(at: SourceLocation(file: file, line: 1, column: 1), "not a valid Mustache template: \(error)")])
            }
            rendered.append(template.render(facts.context))
        }
        return rendered.joined()
    }

    /// The template cut after each `---` line that is outside every section.
    static func documents(_ text: String) -> [String] {
        var chunks: [String] = []
        var current = ""
        var depth = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            var rest = Substring(line)
            while let open = rest.range(of: "{{") {
                let after = rest[open.upperBound...]
                if after.hasPrefix("#") || after.hasPrefix("^") { depth += 1 } else if after.hasPrefix("/") { depth -= 1 }
                rest = after
            }
            current += line + "\n"
            if depth == 0, line.trimmingWhitespace() == "---" {
                chunks.append(current)
                current = ""
            }
        }
        if text.hasSuffix("\n") { current.removeLast() } else if current.hasSuffix("\n") { current.removeLast() }
        if !current.isEmpty { chunks.append(current) }
        return chunks
    }

    /// Located problems: unknown names, unbalanced sections, unsupported tags.
    public static func check(_ text: String, file: String, names: Set<String>) -> [Diagnostic] {
        var problems: [Diagnostic] = []
        var sections: [(name: String, location: SourceLocation)] = []
        let bytes = Array(text.utf8)
        var i = 0, line = 1, column = 1
        func advance(_ n: Int) {
            for _ in 0..<n {
                if bytes[i] == 10 { line += 1; column = 1 } else if bytes[i] & 0xC0 != 0x80 { column += 1 }
                i += 1
            }
        }
        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: "{"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "{") else {
                advance(1)
                continue
            }
            let location = SourceLocation(file: file, line: line, column: column)
            let triple = i + 2 < bytes.count && bytes[i + 2] == UInt8(ascii: "{")
            let close: [UInt8] = triple ? Array("}}}".utf8) : Array("}}".utf8)
            var end = i + (triple ? 3 : 2)
            while end + close.count <= bytes.count, !bytes[end..<(end + close.count)].elementsEqual(close) { end += 1 }
            guard end + close.count <= bytes.count else {
                problems.append(.error(at: location, "unclosed Mustache tag", hint: "close it with \(triple ? "}}}" : "}}")"))
                break
            }
            var body = String(decoding: bytes[(i + (triple ? 3 : 2))..<end], as: UTF8.self).trimmingWhitespace()
            advance(end + close.count - i)
            guard let sigil = body.first else {
                problems.append(.error(at: location, "empty Mustache tag"))
                continue
            }
            switch sigil {
            case "!": continue
            case "=", ">", "<", "$", "%":
                problems.append(.error(at: location, "Mustache tag '{{\(body)}}' is not supported in manifests",
                                       hint: "use plain {{name}}, {{#section}}…{{/section}} and {{^inverted}}"))
                continue
            case "#", "^":
                body.removeFirst()
                let name = body.trimmingWhitespace()
                if !known(name, names, sections) { problems.append(unknown(name, location, names)) }
                sections.append((name, location))
            case "/":
                body.removeFirst()
                let name = body.trimmingWhitespace()
                if let open = sections.last, open.name == name {
                    sections.removeLast()
                } else {
                    problems.append(.error(at: location, "'{{/\(name)}}' closes a section that is not open"
                                           + (sections.last.map { "; '\($0.name)' opened at \($0.location.line):\($0.location.column) is" } ?? "")))
                }
            default:
                if sigil == "&" { body.removeFirst() }
                let name = body.trimmingWhitespace()
                if !known(name, names, sections) { problems.append(unknown(name, location, names)) }
            }
        }
        for open in sections {
            problems.append(.error(at: open.location, "section '{{#\(open.name)}}' is never closed", hint: "add {{/\(open.name)}}"))
        }
        return problems
    }

    /// Inside a section over a map (`{{#datasets}}`), its keys resolve too; `.` is the current value.
    static func known(_ name: String, _ names: Set<String>, _ sections: [(name: String, location: SourceLocation)]) -> Bool {
        if name == "." || names.contains(name) { return true }
        return sections.contains { names.contains($0.name + "." + name) || ($0.name == "datasets") }
    }

    static func unknown(_ name: String, _ location: SourceLocation, _ names: Set<String>) -> Diagnostic {
        .error(at: location, "unknown value '\(name)' in the template",
               hint: Suggestion.hint(for: name, in: Array(names)) ?? "available: \(names.sorted().joined(separator: ", "))")
    }
}
