import FoundationEssentials

/// Reads the few text fields Sluice needs from S3's small XML answers (`UploadId`, an error's
/// `Code` and `Message`). S3's answers are flat, generated documents: the field is the text
/// between `<Name>` and `</Name>` inside the named parent element, with the five predefined
/// entities and numeric references decoded. Bodies are bounded (64 KiB read at most).
enum S3XML {
    static let maxBytes = 64 << 10

    /// The text of the first `<name>` element inside `<parent>` (or anywhere, for nil).
    static func first(_ name: String, in body: [UInt8], under parent: String? = nil) -> String? {
        let text = String(decoding: body.prefix(maxBytes), as: UTF8.self)
        var scope = Substring(text)
        if let parent {
            guard let open = scope.range(of: "<\(parent)>") ?? scope.range(of: "<\(parent) ") else { return nil }
            scope = scope[open.upperBound...]
            if let close = scope.range(of: "</\(parent)>") { scope = scope[..<close.lowerBound] }
        }
        guard let open = scope.range(of: "<\(name)>"), let close = scope.range(of: "</\(name)>", range: open.upperBound..<scope.endIndex) else {
            return nil
        }
        return unescape(scope[open.upperBound..<close.lowerBound])
    }

    /// Text as XML carries it, with `&`, `<` and `>` escaped (for the parts list's ETags).
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func unescape(_ text: Substring) -> String {
        guard text.contains("&") else { return String(text) }
        var out = ""
        var rest = text
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";"), rest.distance(from: amp, to: semi) <= 10 else {
                out += "&"
                rest = rest[rest.index(after: amp)...]
                continue
            }
            let entity = rest[rest.index(after: amp)..<semi]
            switch entity {
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                let number = entity.hasPrefix("#x") ? UInt32(entity.dropFirst(2), radix: 16) : entity.hasPrefix("#") ? UInt32(entity.dropFirst(), radix: 10) : nil
                if let number, let scalar = Unicode.Scalar(number) { out.unicodeScalars.append(scalar) } else { out += "&\(entity);" }
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }
}
