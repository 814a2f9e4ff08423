import Foundation

/// Checks an object against the API server's published OpenAPI v3 schema, as `kubectl`
/// validates client-side: types, required fields, and unknown fields (where the schema lists
/// its properties and does not preserve unknown ones). Used where a server-side dry run cannot
/// answer: an object in a namespace the same manifests create, which does not exist yet.
public struct SchemaValidator: Sendable {
    static let depthLimit = 64

    /// `components.schemas` of the document. Only JSON values (strings, numbers, arrays,
    /// dictionaries), never mutated: safe to share.
    nonisolated(unsafe) private let unsafeSchemas: [String: [String: Any]]

    public init(document: [String: Any]) {
        unsafeSchemas = ((document["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]]) ?? [:]
    }

    /// The problems of `object` (empty: valid), each as `field.path: what is wrong`; nil when the
    /// document has no schema for its kind.
    public func problems(_ object: [String: Any], apiVersion: String, kind: String) -> [String]? {
        let (group, version) = apiVersion.contains("/")
            ? (String(apiVersion.split(separator: "/")[0]), String(apiVersion.split(separator: "/")[1])) : ("", apiVersion)
        guard let root = unsafeSchemas.values.first(where: { schema in
            (schema["x-kubernetes-group-version-kind"] as? [[String: Any]])?.contains {
                ($0["group"] as? String ?? "") == group && $0["version"] as? String == version && $0["kind"] as? String == kind
            } == true
        }) else { return nil }
        var out: [String] = []
        check(object, against: root, path: "", depth: 0, into: &out)
        return out
    }

    private func resolve(_ schema: [String: Any]) -> [String: Any] {
        var s = schema
        for _ in 0..<8 {
            if let ref = s["$ref"] as? String, let name = ref.split(separator: "/").last, let target = unsafeSchemas[String(name)] {
                s = target
            } else if let all = s["allOf"] as? [[String: Any]], all.count == 1 {
                s = all[0]
            } else {
                break
            }
        }
        return s
    }

    private func check(_ value: Any, against raw: [String: Any], path: String, depth: Int, into out: inout [String]) {
        guard depth < Self.depthLimit, out.count < 50 else { return }
        let schema = resolve(raw)
        let shown = path.isEmpty ? "(the object)" : path
        if schema["x-kubernetes-int-or-string"] as? Bool == true {
            if !(value is String) && !Self.isInteger(value) { out.append("\(shown): expected an integer or a string") }
            return
        }
        switch schema["type"] as? String {
        case "object"?:
            guard let object = value as? [String: Any] else { out.append("\(shown): expected an object, found \(Self.kindName(value))"); return }
            let properties = schema["properties"] as? [String: [String: Any]] ?? [:]
            for name in (schema["required"] as? [String] ?? []) where object[name] == nil {
                out.append("\(path.isEmpty ? "" : path + ".")\(name): required value is missing")
            }
            let preserves = schema["x-kubernetes-preserve-unknown-fields"] as? Bool == true
            let additional = schema["additionalProperties"] as? [String: Any]
            for key in object.keys.sorted() {
                let child = path.isEmpty ? key : "\(path).\(key)"
                if let p = properties[key] {
                    check(object[key]!, against: p, path: child, depth: depth + 1, into: &out)
                } else if let additional {
                    check(object[key]!, against: additional, path: child, depth: depth + 1, into: &out)
                } else if !properties.isEmpty, !preserves {
                    out.append("\(child): unknown field \"\(key)\"")
                }
            }
        case "array"?:
            guard let items = value as? [Any] else { out.append("\(shown): expected an array, found \(Self.kindName(value))"); return }
            if let itemSchema = schema["items"] as? [String: Any] {
                for (i, item) in items.enumerated() { check(item, against: itemSchema, path: "\(path)[\(i)]", depth: depth + 1, into: &out) }
            }
        case "string"?:
            if !(value is String) { out.append("\(shown): expected a string, found \(Self.kindName(value))") }
        case "integer"?:
            if !Self.isInteger(value) { out.append("\(shown): expected an integer, found \(Self.kindName(value))") }
        case "number"?:
            if !Self.isNumber(value) { out.append("\(shown): expected a number, found \(Self.kindName(value))") }
        case "boolean"?:
            if !Self.isBool(value) { out.append("\(shown): expected true or false, found \(Self.kindName(value))") }
        default:
            return
        }
    }

    // JSONSerialization gives NSNumbers; a boolean's type code is "c" (no JSON number is an Int8).
    static func isBool(_ v: Any) -> Bool {
        guard let n = v as? NSNumber, !(v is String) else { return false }
        return String(cString: n.objCType) == "c"
    }
    static func isNumber(_ v: Any) -> Bool { v is NSNumber && !(v is String) && !isBool(v) }
    static func isInteger(_ v: Any) -> Bool {
        guard isNumber(v), let n = v as? NSNumber else { return false }
        return n.doubleValue.rounded() == n.doubleValue
    }

    static func kindName(_ v: Any) -> String {
        if v is String { return "a string" }
        if isBool(v) { return "a boolean" }
        if isNumber(v) { return "a number" }
        if v is [Any] { return "an array" }
        if v is [String: Any] { return "an object" }
        return "null"
    }
}
