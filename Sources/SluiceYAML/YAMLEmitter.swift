import CYAML
public import SluiceCore

/// Writes `Node` trees back to YAML with libyaml's emitter (block style, UTF-8).
/// Output is deterministic: the same nodes give the same bytes.
public enum YAMLEmitter {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// One or more documents; several are separated by `---`.
    public static func emit(_ documents: [Node]) throws(Failure) -> String {
        let emitter = LibYAMLEmitter()
        try emitter.emit(documents)
        return String(decoding: emitter.output.bytes, as: UTF8.self)
    }

    public static func emit(_ document: Node) throws(Failure) -> String { try emit([document]) }
}

/// Owns one `yaml_emitter_t` and the buffer it writes into.
final class LibYAMLEmitter {
    final class Output { var bytes: [UInt8] = [] }

    let output = Output()
    private let emitter: UnsafeMutablePointer<yaml_emitter_t>

    init() {
        emitter = .allocate(capacity: 1)
        yaml_emitter_initialize(emitter)
        yaml_emitter_set_unicode(emitter, 1)
        yaml_emitter_set_width(emitter, -1)
        yaml_emitter_set_output(emitter, { data, buffer, size in
            guard let data, let buffer else { return 0 }
            let out = Unmanaged<Output>.fromOpaque(data).takeUnretainedValue()
            out.bytes.append(contentsOf: UnsafeBufferPointer(start: buffer, count: size))
            return 1
        }, Unmanaged.passUnretained(output).toOpaque())
    }

    deinit {
        yaml_emitter_delete(emitter)
        emitter.deallocate()
    }

    func emit(_ documents: [Node]) throws(YAMLEmitter.Failure) {
        var event = yaml_event_t()
        yaml_stream_start_event_initialize(&event, YAML_UTF8_ENCODING)
        try send(&event)
        for document in documents {
            yaml_document_start_event_initialize(&event, nil, nil, nil, documents.count > 1 ? 0 : 1)
            try send(&event)
            try node(document)
            yaml_document_end_event_initialize(&event, 1)
            try send(&event)
        }
        yaml_stream_end_event_initialize(&event)
        try send(&event)
    }

    private func node(_ node: Node) throws(YAMLEmitter.Failure) {
        var event = yaml_event_t()
        switch node.value {
        case .scalar(let s):
            var bytes = Array(s.text.utf8)
            let plainOK: Int32 = s.isPlain ? 1 : 0
            let ok = bytes.withUnsafeMutableBufferPointer { buf in
                yaml_scalar_event_initialize(&event, nil, nil, buf.baseAddress, Int32(buf.count), plainOK, 1, YAML_ANY_SCALAR_STYLE)
            }
            guard ok == 1 else { throw .init(description: "cannot emit scalar '\(s.text)'") }
            try send(&event)
        case .sequence(let items):
            yaml_sequence_start_event_initialize(&event, nil, nil, 1, YAML_BLOCK_SEQUENCE_STYLE)
            try send(&event)
            for item in items { try self.node(item) }
            yaml_sequence_end_event_initialize(&event)
            try send(&event)
        case .mapping(let pairs):
            yaml_mapping_start_event_initialize(&event, nil, nil, 1, YAML_BLOCK_MAPPING_STYLE)
            try send(&event)
            for pair in pairs {
                try self.node(pair.key)
                try self.node(pair.value)
            }
            yaml_mapping_end_event_initialize(&event)
            try send(&event)
        }
    }

    private func send(_ event: inout yaml_event_t) throws(YAMLEmitter.Failure) {
        guard yaml_emitter_emit(emitter, &event) == 1 else {
            let problem = emitter.pointee.problem.map { String(cString: $0) } ?? "unknown error"
            throw .init(description: "YAML emitter: \(problem)")
        }
    }
}
