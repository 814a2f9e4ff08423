/// A path pattern as users write them in CI files: `*` and `?` within one path
/// segment, `[a-z]` / `[!a]` character classes, and `**` for any number of segments.
/// A pattern ending in `/` means everything below that folder.
public struct Glob: Hashable, Sendable, CustomStringConvertible {
    public let pattern: String
    let segments: [Segment]

    enum Segment: Hashable, Sendable {
        case anyDepth                       // **
        case literal(String)
        case wildcard([Token])
    }

    enum Token: Hashable, Sendable {
        case char(Character)
        case any                            // *
        case one                            // ?
        case set([ClosedRange<Character>], negated: Bool)
    }

    public enum SyntaxError: Error, Hashable, Sendable {
        case empty, absolute, parentReference, unclosedClass(String), doubleStarInSegment(String)

        public var message: String {
            switch self {
            case .empty: return "an empty pattern matches nothing"
            case .absolute: return "patterns are relative to the repository root and cannot start with '/'"
            case .parentReference: return "patterns cannot use '..' to leave the repository"
            case .unclosedClass(let s): return "unclosed '[' in segment '\(s)'"
            case .doubleStarInSegment(let s): return "'**' must be a whole path segment, found '\(s)'"
            }
        }

        public var hint: String? {
            switch self {
            case .doubleStarInSegment(let s):
                let stem = s.replacingDoubleStars()
                return "write '\(stem)/**' for everything below, or '\(stem)*' within one folder"
            case .absolute: return "drop the leading '/'"
            default: return nil
            }
        }
    }

    public var description: String { pattern }

    public init(_ pattern: String) throws(SyntaxError) {
        // Split on '/' bytes (a '/' is never part of a longer UTF-8 sequence, and git paths are
        // bytes): Character-by-Character splitting cost ten times more on large specs.
        var text = pattern
        let parsed = text.withUTF8 { bytes in Result { () throws(SyntaxError) in try Glob.segments(bytes) } }
        self.segments = try parsed.get()
        self.pattern = pattern
    }

    private static func segments(_ bytes: UnsafeBufferPointer<UInt8>) throws(SyntaxError) -> [Segment] {
        let slash = UInt8(ascii: "/")
        guard let first = bytes.first else { throw .empty }
        if first == slash { throw .absolute }
        var segments: [Segment] = []
        segments.reserveCapacity(4)
        var start = 0
        for end in 0...bytes.count where end == bytes.count || bytes[end] == slash {
            if let segment = try segment(UnsafeBufferPointer(rebasing: bytes[start..<end])),
               segment != .anyDepth || segments.last != .anyDepth {
                segments.append(segment)
            }
            start = end + 1
        }
        // A pattern ending in '/' means everything below that folder.
        if bytes.last == slash, segments.last != .anyDepth { segments.append(.anyDepth) }
        if segments.isEmpty { throw .empty }
        return segments
    }

    /// One '/'-separated part of a pattern; nil for parts that add nothing ('' and '.').
    private static func segment(_ raw: UnsafeBufferPointer<UInt8>) throws(SyntaxError) -> Segment? {
        let dot = UInt8(ascii: "."), star = UInt8(ascii: "*")
        switch raw.count {
        case 0: return nil
        case 1 where raw[0] == dot: return nil
        case 2 where raw[0] == dot && raw[1] == dot: throw .parentReference
        case 2 where raw[0] == star && raw[1] == star: return .anyDepth
        default: break
        }
        let text = String(decoding: raw, as: UTF8.self)
        // Most segments are plain names: no tokenising (Character by Character) for them.
        if !raw.contains(where: { $0 == star || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") }) {
            return .literal(text)
        }
        if (1..<raw.count).contains(where: { raw[$0 - 1] == star && raw[$0] == star }) { throw .doubleStarInSegment(text) }
        let tokens = try Glob.tokens(text)
        // Only escaped characters (`a\*b`): the literal is the text without its backslashes.
        var literal = ""
        for token in tokens {
            guard case .char(let c) = token else { return .wildcard(tokens) }
            literal.append(c)
        }
        return .literal(literal)
    }

    /// The leading folders that contain no wildcard: `src/models/**/*.py` -> `src/models`.
    /// Everything the glob can match lies below this prefix, so callers can look only there.
    public var literalPrefix: String {
        var parts: [String] = []
        for segment in segments.dropLast() {
            guard case .literal(let s) = segment else { break }
            parts.append(s)
        }
        return parts.joined(separator: "/")
    }

    /// True when the pattern is exactly `prefix/**`: it matches every file below one folder,
    /// so that folder's tree id alone captures the content it selects.
    public var isWholeFolder: Bool {
        guard segments.last == .anyDepth else { return false }
        return segments.dropLast().allSatisfy { if case .literal = $0 { return true } else { return false } }
    }

    /// The path itself when the pattern has no wildcard at all (`params.yaml`).
    public var literalPath: String? {
        var parts: [String] = []
        for segment in segments {
            guard case .literal(let s) = segment else { return nil }
            parts.append(s)
        }
        return parts.joined(separator: "/")
    }

    /// Whether a repository-relative file path (with `/` separators) matches.
    public func matches(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        return Glob.match(segments[...], parts[...])
    }

    private static func match(_ segs: ArraySlice<Segment>, _ parts: ArraySlice<String>) -> Bool {
        guard let first = segs.first else { return parts.isEmpty }
        switch first {
        case .anyDepth:
            let rest = segs.dropFirst()
            if rest.isEmpty { return !parts.isEmpty }
            var tail = parts
            while true {
                if match(rest, tail) { return true }
                guard !tail.isEmpty else { return false }
                tail = tail.dropFirst()
            }
        case .literal(let s):
            guard let p = parts.first, p == s else { return false }
            return match(segs.dropFirst(), parts.dropFirst())
        case .wildcard(let tokens):
            guard let p = parts.first, matchSegment(tokens[...], Array(p)[...]) else { return false }
            return match(segs.dropFirst(), parts.dropFirst())
        }
    }

    private static func matchSegment(_ tokens: ArraySlice<Token>, _ chars: ArraySlice<Character>) -> Bool {
        guard let token = tokens.first else { return chars.isEmpty }
        switch token {
        case .any:
            var tail = chars
            while true {
                if matchSegment(tokens.dropFirst(), tail) { return true }
                guard !tail.isEmpty else { return false }
                tail = tail.dropFirst()
            }
        case .one:
            guard !chars.isEmpty else { return false }
            return matchSegment(tokens.dropFirst(), chars.dropFirst())
        case .char(let c):
            guard chars.first == c else { return false }
            return matchSegment(tokens.dropFirst(), chars.dropFirst())
        case .set(let ranges, let negated):
            guard let c = chars.first else { return false }
            guard ranges.contains(where: { $0.contains(c) }) != negated else { return false }
            return matchSegment(tokens.dropFirst(), chars.dropFirst())
        }
    }

    private static func tokens(_ segment: String) throws(SyntaxError) -> [Token] {
        var tokens: [Token] = []
        let chars = Array(segment)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            switch c {
            case "*": if tokens.last != .any { tokens.append(.any) }
            case "?": tokens.append(.one)
            case "\\" where i + 1 < chars.count:
                i += 1
                tokens.append(.char(chars[i]))
            case "[":
                var j = i + 1
                var negated = false
                if j < chars.count, chars[j] == "!" || chars[j] == "^" {
                    negated = true
                    j += 1
                }
                var ranges: [ClosedRange<Character>] = []
                var closed = false
                var firstInClass = true
                while j < chars.count {
                    if chars[j] == "]", !firstInClass {
                        closed = true
                        break
                    }
                    firstInClass = false
                    if j + 2 < chars.count, chars[j + 1] == "-", chars[j + 2] != "]", chars[j] <= chars[j + 2] {
                        ranges.append(chars[j]...chars[j + 2])
                        j += 3
                    } else {
                        ranges.append(chars[j]...chars[j])
                        j += 1
                    }
                }
                if !closed { throw .unclosedClass(segment) }
                tokens.append(.set(ranges, negated: negated))
                i = j
            default: tokens.append(.char(c))
            }
            i += 1
        }
        return tokens
    }
}

extension String {
    fileprivate func replacingDoubleStars() -> String {
        var s = self
        while let r = s.firstRange(of: "**") { s.removeSubrange(r) }
        return s.isEmpty ? "dir" : s
    }
}
