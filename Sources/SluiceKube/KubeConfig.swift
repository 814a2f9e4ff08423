import Foundation
import SluiceCore
public import SluiceHTTP
import SluiceYAML

/// Where and how to reach a Kubernetes API server, read the way kubectl reads it: the
/// files in `KUBECONFIG` (merged, the first file to set a value wins) or
/// `~/.kube/config`, the current context (or `--context`), its cluster's server and CA, its
/// user's client certificate, token or token file, `insecure-skip-tls-verify`, and the
/// context's namespace. Inside a pod, the service account.
public struct KubeConfig: Sendable {
    public var server: String
    public var tls: TLSOptions
    public var token: String?
    public var namespace: String
    public var context: String

    public struct ConfigError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public init(server: String, tls: TLSOptions = TLSOptions(), token: String? = nil, namespace: String = "default", context: String = "") {
        self.server = server
        self.tls = tls
        self.token = token
        self.namespace = namespace
        self.context = context
    }

    public static func load(environment: [String: String], context override: String? = nil) throws(ConfigError) -> KubeConfig {
        let paths: [String]
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            paths = list.split(separator: ":").map(String.init)
        } else if let home = environment["HOME"], FileManager.default.fileExists(atPath: home + "/.kube/config") {
            paths = [home + "/.kube/config"]
        } else if let inCluster = try inCluster(environment) {
            return inCluster
        } else {
            throw ConfigError(description: "no kubeconfig: set KUBECONFIG or create ~/.kube/config (or run in a pod with a service account)")
        }
        var clusters: [String: (Node, String)] = [:], users: [String: (Node, String)] = [:], contexts: [String: Node] = [:]
        var current: String?
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else { continue }  // kubectl skips missing files
            let root: Node?
            do throws(YAMLError) { root = try YAMLParser.parseDocument([UInt8](data), file: path) } catch {
                throw ConfigError(description: "kubeconfig \(DiagnosticRenderer.line(error.diagnostic))")
            }
            guard let root else { continue }
            let folder = (path as NSString).deletingLastPathComponent
            for item in root["clusters"]?.sequence ?? [] {
                if let name = item["name"]?.string, clusters[name] == nil, let c = item["cluster"] { clusters[name] = (c, folder) }
            }
            for item in root["users"]?.sequence ?? [] {
                if let name = item["name"]?.string, users[name] == nil, let u = item["user"] { users[name] = (u, folder) }
            }
            for item in root["contexts"]?.sequence ?? [] {
                if let name = item["name"]?.string, contexts[name] == nil, let c = item["context"] { contexts[name] = c }
            }
            if current == nil, let c = root["current-context"]?.string, !c.isEmpty { current = c }
        }
        guard let contextName = override ?? current else {
            throw ConfigError(description: "kubeconfig \(paths.joined(separator: ":")) has no current-context; pass --context")
        }
        guard let context = contexts[contextName] else {
            throw ConfigError(description: "context '\(contextName)' is not in \(paths.joined(separator: ":"))"
                              + (Suggestion.hint(for: contextName, in: Array(contexts.keys)).map { "; \($0)" } ?? ""))
        }
        guard let clusterName = context["cluster"]?.string, let (cluster, clusterFolder) = clusters[clusterName] else {
            throw ConfigError(description: "context '\(contextName)' names a cluster that is not defined")
        }
        guard let server = cluster["server"]?.string else {
            throw ConfigError(description: "cluster '\(clusterName)' has no server")
        }
        var tls = TLSOptions()
        tls.insecureSkipVerify = cluster["insecure-skip-tls-verify"]?.bool ?? false
        if let data = cluster["certificate-authority-data"]?.string {
            tls.caPEM = try decode(data, what: "certificate-authority-data of cluster '\(clusterName)'")
        } else if let file = cluster["certificate-authority"]?.string {
            tls.caFile = resolve(file, clusterFolder)
        }
        var token: String?
        if let userName = context["user"]?.string, let (user, userFolder) = users[userName] {
            if let data = user["client-certificate-data"]?.string {
                tls.clientCertificatePEM = try decode(data, what: "client-certificate-data of user '\(userName)'")
            } else if let file = user["client-certificate"]?.string {
                tls.clientCertificatePEM = try read(resolve(file, userFolder), what: "client-certificate of user '\(userName)'")
            }
            if let data = user["client-key-data"]?.string {
                tls.clientKeyPEM = try decode(data, what: "client-key-data of user '\(userName)'")
            } else if let file = user["client-key"]?.string {
                tls.clientKeyPEM = try read(resolve(file, userFolder), what: "client-key of user '\(userName)'")
            }
            if let t = user["token"]?.string {
                token = t
            } else if let file = user["tokenFile"]?.string {
                token = String(decoding: try read(resolve(file, userFolder), what: "tokenFile of user '\(userName)'"), as: UTF8.self).trimmingWhitespace()
            }
        }
        return KubeConfig(server: server, tls: tls, token: token, namespace: context["namespace"]?.string ?? "default", context: contextName)
    }

    /// The pod's service account, when `KUBERNETES_SERVICE_HOST` is set.
    static func inCluster(_ environment: [String: String], root: String = "/var/run/secrets/kubernetes.io/serviceaccount") throws(ConfigError) -> KubeConfig? {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], let port = environment["KUBERNETES_SERVICE_PORT"] else { return nil }
        let token = String(decoding: try read(root + "/token", what: "the service account token"), as: UTF8.self).trimmingWhitespace()
        let namespace = (FileManager.default.contents(atPath: root + "/namespace")).map { String(decoding: $0, as: UTF8.self).trimmingWhitespace() } ?? "default"
        let server = host.contains(":") ? "https://[\(host)]:\(port)" : "https://\(host):\(port)"
        return KubeConfig(server: server, tls: TLSOptions(caFile: root + "/ca.crt"), token: token, namespace: namespace, context: "in-cluster")
    }

    static func resolve(_ path: String, _ folder: String) -> String {
        path.hasPrefix("/") ? path : folder + "/" + path
    }

    static func decode(_ base64: String, what: String) throws(ConfigError) -> [UInt8] {
        guard let data = Data(base64Encoded: base64.trimmingWhitespace()) else { throw ConfigError(description: "\(what) is not base64") }
        return [UInt8](data)
    }

    static func read(_ path: String, what: String) throws(ConfigError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ConfigError(description: "cannot read \(what) at \(path)") }
        return [UInt8](data)
    }
}
