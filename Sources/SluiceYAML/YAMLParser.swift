import CYAML
public import SluiceCore

/// Parses YAML text with libyaml into `Node` trees that remember line and column.
///
/// Anchors and aliases are resolved (an alias is its anchored node at another place, not a
/// copy of it); `<<` merge keys are applied; the total size after alias expansion is
/// bounded so that "billion laughs" documents are refused instead of expanded.
public enum YAMLParser {
    /// The most nodes a stream may expand to through aliases.
    public static let defaultNodeLimit = 2_000_000
    /// The deepest nesting of sequences and mappings read. Real files nest a few levels; a
    /// limit keeps parse time linear and the trees that code walks recursively shallow.
    public static let depthLimit = 512
    /// The largest stream read (2 GiB - 1).
    public static let byteLimit = Int(Int32.max)

    /// Every document of a stream, in order.
    public static func parseStream(_ bytes: [UInt8], file: String, nodeLimit: Int = defaultNodeLimit,
                                   byteLimit: Int = byteLimit) throws(YAMLError) -> [Node] {
        // The node arena addresses text and nodes with 32-bit offsets.
        let limit = min(byteLimit, Self.byteLimit)
        guard bytes.count <= limit else {
            throw YAMLError(.error(at: SourceLocation(file: file, line: 1, column: 1),
                                   "the file is \(bytes.count) bytes; Sluice reads YAML files of at most \(limit) bytes",
                                   hint: "split it into smaller files"))
        }
        let parser = LibYAMLParser(bytes: bytes)
        var builder = TreeBuilder(file: file, nodeLimit: nodeLimit, bytes: bytes)
        while true {
            let event: LibYAMLParser.Event
            do throws(LibYAMLParser.Failure) {
                event = try parser.next()
            } catch {
                throw YAMLError(builder.diagnostic(for: error))
            }
            if case .streamEnd = event.kind { break }
            try builder.handle(event)
        }
        return builder.documents()
    }

    /// Exactly one document; an empty file gives nil.
    public static func parseDocument(_ bytes: [UInt8], file: String, nodeLimit: Int = defaultNodeLimit) throws(YAMLError) -> Node? {
        let docs = try parseStream(bytes, file: file, nodeLimit: nodeLimit)
        if docs.count > 1 {
            throw YAMLError(.error(at: docs[1].location, "expected one YAML document, found \(docs.count)",
                                   hint: "remove the '---' separator or split the file"))
        }
        return docs.first
    }

    public static func parseDocument(_ text: String, file: String) throws(YAMLError) -> Node? {
        try parseDocument(Array(text.utf8), file: file)
    }
}

/// Owns one `yaml_parser_t` and the input bytes it reads; both live exactly as long as this object.
final class LibYAMLParser {
    enum Kind {
        case streamStart, streamEnd, documentStart, documentEnd
        case scalar(plain: Bool)  // the text is the event's `text`
        case sequenceStart, sequenceEnd, mappingStart, mappingEnd
        case alias(String)
    }

    struct Event {
        var kind: Kind
        var line: Int
        var column: Int
        var anchor: String?
        var tag: String?
        /// A scalar's text, read in place from libyaml's event: valid until the next `next()`.
        var text = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
    }

    struct Failure: Error {
        var problem: String
        var context: String?
        var line: Int
        var column: Int
        var offset: Int
    }

    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let input: UnsafeMutableBufferPointer<UInt8>
    /// The last event, kept until the next call so that its scalar text can be read in place.
    private let event: UnsafeMutablePointer<yaml_event_t>
    private var holdsEvent = false

    init(bytes: [UInt8]) {
        parser = .allocate(capacity: 1)
        yaml_parser_initialize(parser)
        event = .allocate(capacity: 1)
        input = .allocate(capacity: max(bytes.count, 1))
        _ = input.initialize(from: bytes)
        yaml_parser_set_input_string(parser, input.baseAddress, bytes.count)
    }

    deinit {
        if holdsEvent { yaml_event_delete(event) }
        event.deallocate()
        yaml_parser_delete(parser)
        parser.deallocate()
        input.deallocate()
    }

    /// One-based line and column (in characters) of a byte offset in the input.
    private func position(ofByte offset: Int) -> (Int, Int) {
        var line = 1, lineStart = 0
        let end = min(offset, input.count)
        for i in 0..<end where input[i] == 0x0A {
            line += 1
            lineStart = i + 1
        }
        let column = input[lineStart..<end].reduce(1) { $0 + (($1 & 0xC0) == 0x80 ? 0 : 1) }
        return (line, column)
    }

    func next() throws(Failure) -> Event {
        if holdsEvent {
            yaml_event_delete(event)
            holdsEvent = false
        }
        guard yaml_parser_parse(parser, event) == 1 else {
            let p = parser.pointee
            let problem = p.problem.map { String(cString: $0) } ?? "unknown YAML error"
            if p.error == YAML_READER_ERROR {
                // Reader errors (bad encoding) carry a byte offset, not a mark.
                let (line, column) = position(ofByte: Int(p.problem_offset))
                throw Failure(problem: problem, context: nil, line: line, column: column, offset: Int(p.problem_offset))
            }
            let mark = p.problem_mark
            throw Failure(
                problem: problem, context: p.context.map { String(cString: $0) },
                line: Int(mark.line) + 1, column: Int(mark.column) + 1, offset: Int(mark.index))
        }
        holdsEvent = true
        let event = self.event.pointee
        let line = Int(event.start_mark.line) + 1
        let column = Int(event.start_mark.column) + 1
        func text(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? { p.map { String(cString: $0) } }
        switch event.type {
        case YAML_STREAM_START_EVENT: return Event(kind: .streamStart, line: line, column: column)
        case YAML_STREAM_END_EVENT: return Event(kind: .streamEnd, line: line, column: column)
        case YAML_DOCUMENT_START_EVENT: return Event(kind: .documentStart, line: line, column: column)
        case YAML_DOCUMENT_END_EVENT: return Event(kind: .documentEnd, line: line, column: column)
        case YAML_ALIAS_EVENT:
            return Event(kind: .alias(text(event.data.alias.anchor) ?? ""), line: line, column: column)
        case YAML_SCALAR_EVENT:
            let s = event.data.scalar
            return Event(kind: .scalar(plain: s.style == YAML_PLAIN_SCALAR_STYLE),
                         line: line, column: column, anchor: text(s.anchor), tag: text(s.tag),
                         text: UnsafeBufferPointer(start: s.value, count: s.length))
        case YAML_SEQUENCE_START_EVENT:
            let s = event.data.sequence_start
            return Event(kind: .sequenceStart, line: line, column: column, anchor: text(s.anchor), tag: text(s.tag))
        case YAML_SEQUENCE_END_EVENT: return Event(kind: .sequenceEnd, line: line, column: column)
        case YAML_MAPPING_START_EVENT:
            let m = event.data.mapping_start
            return Event(kind: .mappingStart, line: line, column: column, anchor: text(m.anchor), tag: text(m.tag))
        case YAML_MAPPING_END_EVENT: return Event(kind: .mappingEnd, line: line, column: column)
        default: return Event(kind: .streamEnd, line: line, column: column)
        }
    }
}
