import Foundation
public import SluiceCore
public import SluiceHTTP

/// The MLflow Model Registry over its REST API (libcurl): a registered model per Sluice
/// model, one model version per gated candidate (metrics and lineage as tags), and an
/// alias (default `champion`) on the version in production.
public struct MLflowRegistry: ModelRegistry {
    public let baseURL: String
    public let alias: String
    let client: HTTPClient
    /// MLflow's own auth: `MLFLOW_TRACKING_TOKEN` (bearer) or username/password (basic).
    let authorization: String?

    public var kind: String { "mlflow" }

    public init(trackingURI: String, alias: String = "champion", environment: [String: String] = [:], client: HTTPClient = HTTPClient()) {
        var base = trackingURI
        while base.hasSuffix("/") { base.removeLast() }
        baseURL = base
        self.alias = alias
        self.client = client
        if let token = environment["MLFLOW_TRACKING_TOKEN"], !token.isEmpty {
            authorization = "Bearer " + token
        } else if let user = environment["MLFLOW_TRACKING_USERNAME"], let password = environment["MLFLOW_TRACKING_PASSWORD"] {
            authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        } else {
            authorization = nil
        }
    }

    // MARK: REST

    struct APIError: Error {
        var status: Int
        var code: String
        var message: String
    }

    private func call(_ method: String, _ path: String, query: [(String, String)] = [], body: [String: Any]? = nil) throws(RegistryError) -> [String: Any] {
        var url = "\(baseURL)/api/2.0/mlflow/\(path)"
        if !query.isEmpty {
            url += "?" + query.map { "\($0.0)=\(URLEncoding.component($0.1))" }.joined(separator: "&")
        }
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if let authorization { headers.append(("Authorization", authorization)) }
        var bytes: [UInt8]?
        if let body {
            headers.append(("Content-Type", "application/json"))
            bytes = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])).map { [UInt8]($0) }
        }
        let response: HTTPResponse
        do {
            response = try client.send(HTTPRequest(method: method, url: url, headers: headers, body: bytes, timeout: 30))
        } catch {
            throw RegistryError("MLflow at \(baseURL) is unreachable: \(error)")
        }
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        guard (200..<300).contains(response.status) else {
            let code = json["error_code"] as? String ?? "HTTP \(response.status)"
            let message = json["message"] as? String ?? String(response.text.prefix(300))
            throw RegistryError("MLflow \(method) \(path) failed: \(response.status) \(code): \(message)")
        }
        return json
    }


    // MARK: ModelRegistry

    public func production(model: String) throws(RegistryError) -> RegisteredVersion? {
        do {
            let json = try call("GET", "registered-models/alias", query: [("name", model), ("alias", alias)])
            return (json["model_version"] as? [String: Any]).flatMap { Self.version(from: $0) }
        } catch {
            // No model yet, or no alias yet: nothing in production. Anything else fails closed.
            if error.description.contains("RESOURCE_DOES_NOT_EXIST") || (error.description.contains("INVALID_PARAMETER_VALUE") && error.description.contains("not found")) {
                return nil
            }
            throw error
        }
    }

    public func register(_ c: Candidate) throws(RegistryError) -> RegisteredVersion {
        do {
            _ = try call("POST", "registered-models/create", body: ["name": c.model, "description": "Registered by Sluice"])
        } catch {
            guard error.description.contains("RESOURCE_ALREADY_EXISTS") else { throw error }
        }
        var tags: [[String: String]] = [
            ["key": "sluice.commit", "value": c.commit],
            ["key": "sluice.run", "value": String(c.runID)],
            ["key": "sluice.metrics", "value": c.metricsJSON],
        ]
        if let digest = c.artifactDigest { tags.append(["key": "sluice.artifact_digest", "value": digest]) }
        for (name, version) in c.datasetVersions.sorted(by: { $0.key < $1.key }) { tags.append(["key": "sluice.dataset.\(name)", "value": version]) }
        for (name, value) in c.parameters.sorted(by: { $0.key < $1.key }) { tags.append(["key": "sluice.params.\(name)", "value": String(value.prefix(5000))]) }
        for (name, value) in c.metrics.values.sorted(by: { $0.key < $1.key }) { tags.append(["key": "metric.\(name)", "value": String(value)]) }
        let json = try call("POST", "model-versions/create", body: [
            "name": c.model, "source": "sluice://\(c.commit)/run/\(c.runID)", "tags": tags,
            "description": "Candidate from commit \(c.commit.prefix(12)), Sluice run \(c.runID)",
        ])
        guard let mv = json["model_version"] as? [String: Any], let version = Self.version(from: mv) else {
            throw RegistryError("MLflow model-versions/create answered without a model_version")
        }
        return RegisteredVersion(model: c.model, version: version.version, commit: c.commit, runID: c.runID, metrics: c.metrics,
                                 datasetVersions: c.datasetVersions, artifactDigest: c.artifactDigest)
    }

    public func version(model: String, version: String) throws(RegistryError) -> RegisteredVersion? {
        do {
            let json = try call("GET", "model-versions/get", query: [("name", model), ("version", version)])
            return (json["model_version"] as? [String: Any]).flatMap { Self.version(from: $0) }
        } catch {
            if error.description.contains("RESOURCE_DOES_NOT_EXIST") { return nil }
            throw error
        }
    }

    public func setProduction(model: String, version: String) throws(RegistryError) {
        _ = try call("POST", "registered-models/alias", body: ["name": model, "alias": alias, "version": version])
    }

    /// A model version's JSON as Sluice reads it back from its tags.
    static func version(from mv: [String: Any]) -> RegisteredVersion? {
        guard let name = mv["name"] as? String, let version = mv["version"] as? String else { return nil }
        var tags: [String: String] = [:]
        for tag in mv["tags"] as? [[String: Any]] ?? [] {
            if let k = tag["key"] as? String, let v = tag["value"] as? String { tags[k] = v }
        }
        var datasets: [String: String] = [:]
        for (k, v) in tags where k.hasPrefix("sluice.dataset.") { datasets[String(k.dropFirst("sluice.dataset.".count))] = v }
        let metrics = tags["sluice.metrics"].flatMap { MetricsJSON.read($0, file: "MLflow \(name) v\(version) tag sluice.metrics") } ?? MetricSet()
        return RegisteredVersion(model: name, version: version, commit: tags["sluice.commit"] ?? "", runID: tags["sluice.run"].flatMap { Int64($0) },
                                 metrics: metrics, datasetVersions: datasets, artifactDigest: tags["sluice.artifact_digest"])
    }
}
