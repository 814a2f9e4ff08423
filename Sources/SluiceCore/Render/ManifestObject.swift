/// One rendered Kubernetes object, identified the way the API server identifies it.
public struct ManifestObject: Hashable, Sendable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var namespace: String?
    /// The object as a located node tree (labels already added).
    public var node: Node
    /// The template it came from.
    public var source: String

    /// `Deployment ml/iris-model`.
    public var displayName: String { "\(kind) \(namespace.map { "\($0)/" } ?? "")\(name)" }

    /// A stable file name for the environment branch: `ml/deployment-iris-model.yaml`.
    public var fileName: String { "\(namespace ?? "_cluster")/\(kind.lowercased())-\(name).yaml" }

    /// Kinds that live outside namespaces (no namespace is added to them).
    public static let clusterScopedKinds: Set<String> = [
        "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
        "StorageClass", "PriorityClass", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
        "APIService", "IngressClass", "RuntimeClass", "CSIDriver",
    ]

    public static let managedByLabel = "app.kubernetes.io/managed-by"
    public static let environmentLabel = "sluice.dev/environment"

    /// Reads a rendered document: checks the identifying fields, adds the namespace (when
    /// the object has none and is namespaced) and Sluice's ownership labels.
    public static func make(_ document: Node, source: String, environment: String, namespace: String?) throws(DiagnosticsError) -> ManifestObject {
        var problems: [Diagnostic] = []
        guard document.mapping != nil else {
            throw DiagnosticsError([.error(at: document.location, "a manifest must be a mapping (a Kubernetes object), found \(document.kindName)")])
        }
        func text(_ path: [String]) -> String? {
            var n: Node? = document
            for key in path { n = n?[key] }
            return n?.string
        }
        let apiVersion = text(["apiVersion"]), kind = text(["kind"]), name = text(["metadata", "name"])
        if apiVersion == nil { problems.append(.error(at: document.location, "the object has no 'apiVersion'")) }
        if kind == nil { problems.append(.error(at: document.location, "the object has no 'kind'")) }
        if name == nil { problems.append(.error(at: document.location, "the object has no 'metadata.name'")) }
        guard problems.isEmpty, let apiVersion, let kind, let name else { throw DiagnosticsError(problems) }
        var node = document
        var ns = text(["metadata", "namespace"])
        if ns == nil, let namespace, !clusterScopedKinds.contains(kind) {
            node = node.setting(["metadata", "namespace"], to: namespace)
            ns = namespace
        }
        node = node.setting(["metadata", "labels", managedByLabel], to: "sluice")
        node = node.setting(["metadata", "labels", environmentLabel], to: environment)
        return ManifestObject(apiVersion: apiVersion, kind: kind, name: name, namespace: ns, node: node, source: source)
    }
}

extension Node {
    /// A copy with the string at `path` set, creating mappings on the way.
    public func setting(_ path: [String], to value: String) -> Node {
        guard let key = path.first else {
            return Node(.scalar(Scalar(value, isPlain: false)), at: location)
        }
        var pairs = mapping ?? []
        if let i = pairs.firstIndex(where: { $0.key.string == key }) {
            pairs[i].value = pairs[i].value.setting(Array(path.dropFirst()), to: value)
        } else {
            let child = Node(.mapping([]), at: location).setting(Array(path.dropFirst()), to: value)
            pairs.append(.init(key: Node(.scalar(Scalar(key)), at: location), value: child))
        }
        return Node(.mapping(pairs), at: location, tag: tag)
    }
}
