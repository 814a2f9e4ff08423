/// Status icons as inline SVG (no emoji: a viewer without an emoji font saw empty boxes),
/// always next to a word, so colour and shape are never the only signal.
enum Icons {
    enum Tone: String { case ok, bad, warn, idle }

    private static let paths: [Tone: String] = [
        .ok: "M6.2 11.3 2.9 8l-1 1 4.3 4.3 8-8-1-1z",
        .bad: "M4.1 3 3 4.1 6.9 8 3 11.9 4.1 13 8 9.1 11.9 13 13 11.9 9.1 8 13 4.1 11.9 3 8 6.9z",
        .warn: "M8 1.5 0.8 14h14.4zM7.3 6h1.4v4.2H7.3zm0 5.3h1.4v1.4H7.3z",
        .idle: "M8 2a6 6 0 1 0 0 12A6 6 0 0 0 8 2zm0 1.4a4.6 4.6 0 1 1 0 9.2 4.6 4.6 0 0 1 0-9.2z",
    ]

    static func svg(_ tone: Tone) -> String {
        "<svg class=\"icon\" viewBox=\"0 0 16 16\" aria-hidden=\"true\" focusable=\"false\"><path fill=\"currentColor\" d=\"\(paths[tone]!)\"/></svg>"
    }

    static func tone(runStatus: String) -> Tone {
        switch runStatus {
        case "succeeded", "cached", "skipped", "healthy", "True": return .ok
        case "failed", "blocked", "interrupted", "cancelled", "unhealthy", "False": return .bad
        case "running", "pending", "queued": return .warn
        default: return .idle
        }
    }

    static func tone(verdict: String) -> Tone {
        switch verdict {
        case "promote": return .ok
        case "reject": return .bad
        case "could-not-evaluate": return .warn
        default: return .idle
        }
    }
}

/// HTML text escaping for the few places that build markup outside a template.
enum HTML {
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "'", with: "&#39;")
    }
}
