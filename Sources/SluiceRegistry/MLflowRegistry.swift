import Foundation
public import SluiceCore
public import SluiceHTTP
import SluiceYAML

/// The MLflow Model Registry and tracking server over their REST API (libcurl). Each gated
/// candidate becomes an MLflow run (metrics, params, lineage, the model's files as its
/// artifacts) and a model version whose `source` is those files, so MLflow clients, MLflow
/// serving and KServe load what Sluice gated; an alias (default `champion`) marks production.
public struct MLflowRegistry: ModelRegistry {
    public let alias: String
    let client: MLflowClient
    let uploads: MLflowClient.UploadOptions

    public var kind: String { "mlflow" }

    public init(trackingURI: String, alias: String = "champion", environment: [String: String] = [:], client: HTTPClient = HTTPClient()) {
        self.alias = alias
        self.client = MLflowClient(trackingURI: trackingURI, environment: environment, http: client)
        uploads = MLflowClient.UploadOptions(environment: environment)
    }

    // MARK: ModelRegistry

    public func production(model: String) throws(RegistryError) -> RegisteredVersion? {
        do throws(RegistryError) {
            let json = try client.call("GET", "registered-models/alias", query: [("name", model), ("alias", alias)])
            return (json["model_version"] as? [String: Any]).flatMap { Self.version(from: $0) }
        } catch where error.code == "RESOURCE_DOES_NOT_EXIST" || (error.code == "INVALID_PARAMETER_VALUE" && error.description.contains("not found")) {
            return nil  // no model yet, or no alias yet: nothing in production; anything else fails closed
        }
    }

    /// Run first, files next, model version last: a version exists only once its files are
    /// uploaded and checked. On failure the run is marked FAILED (with the reason) and kept.
    public func register(_ c: Candidate) throws(RegistryError) -> Registration {
        do throws(RegistryError) {
            _ = try client.call("POST", "registered-models/create", body: ["name": c.model, "description": "Registered by Sluice"])
        } catch where error.code == "RESOURCE_ALREADY_EXISTS" {
            // The registered model exists already (every candidate after the first): versions go into it.
        }
        let experiment = try client.experimentID(named: c.experiment ?? c.model)
        let run = try client.createRun(c, experimentID: experiment, now: Self.now())
        do throws(RegistryError) {
            try client.logCandidate(c, run: run, now: Self.now())
            var notes: [String] = []
            let source: String
            if let files = c.modelFiles {
                source = try client.upload(files, run: run, options: uploads)
                if let bundle = c.signature {
                    // Where `model_signing verify` looks by default: `<model>.sig` beside the model's folder.
                    let uri = try client.upload(text: bundle, name: Self.signatureName(files), run: run)
                    notes.append("MLflow: the model's signature is at \(uri)")
                }
                if !files.isMLflowModel {
                    notes.append("MLflow: '\(files.output)' is not an MLflow model folder (no MLmodel file): MLflow clients get its files but cannot load it as a pyfunc model; save it with mlflow.<flavor>.save_model")
                }
            } else {
                source = run.artifactURI
                notes.append("MLflow: the run stored no model output, so version files are empty; declare the model under the training stage's 'outputs'")
            }
            let version = try createVersion(c, source: source, run: run)
            try client.finish(run: run.id, status: "FINISHED", now: Self.now())
            notes.append("MLflow: version \(version.version) of \(c.model) loads from \(source) (run \(run.id))")
            return Registration(version: version, notes: notes)
        } catch {
            var message = error.description
            do throws(RegistryError) {
                try client.setTag(run: run.id, "sluice.error", message)
                try client.finish(run: run.id, status: "FAILED", now: Self.now())
            } catch let marking {
                message += "; marking MLflow run \(run.id) as failed failed too: \(marking.description)"
            }
            throw RegistryError(message, code: error.code)
        }
    }

    public func servedFiles(of version: RegisteredVersion) throws(RegistryError) -> [ModelSignature.File]? {
        guard let source = version.source else { throw RegistryError("MLflow names no source for \(version.model) version \(version.version)") }
        return try client.servedFiles(source: source)
    }

    /// The signature bundle's artifact name beside the model's files.
    public static func signatureName(_ files: ModelFiles) -> String { files.name + ".sig" }

    /// Creates the model version; when the answer is lost, finds and deletes what the server
    /// may have created for this run, so a retry starts clean.
    private func createVersion(_ c: Candidate, source: String, run: MLflowClient.TrackedRun) throws(RegistryError) -> RegisteredVersion {
        var tags: [[String: String]] = [
            ["key": "sluice.commit", "value": c.commit],
            ["key": "sluice.run", "value": String(c.runID)],
            ["key": "sluice.metrics", "value": MLflowKeys.tagValue(c.metricsJSON)],
        ]
        if let digest = c.artifactDigest { tags.append(["key": "sluice.artifact_digest", "value": digest]) }
        if let url = c.runURL { tags.append(["key": "sluice.run_url", "value": url]) }
        if c.signature != nil, let files = c.modelFiles { tags.append(["key": "sluice.signature", "value": Self.signatureName(files)]) }
        for (name, version) in c.datasetVersions.sorted(by: { $0.key < $1.key }) {
            tags.append(["key": MLflowKeys.legal("sluice.dataset." + name), "value": MLflowKeys.tagValue(version)])
        }
        for (name, value) in MLflowKeys.metrics(c.metrics) { tags.append(["key": "metric." + name, "value": String(value)]) }
        let json: [String: Any]
        do throws(RegistryError) {
            json = try client.call("POST", "model-versions/create", body: [
                "name": c.model, "source": source, "run_id": run.id, "tags": tags,
                "description": "Candidate from commit \(c.commit.prefix(12)), Sluice run \(c.runID)",
            ])
        } catch where error.code == nil {
            throw RegistryError(error.description + removeVersions(of: run.id, model: c.model))
        }
        guard let mv = json["model_version"] as? [String: Any], let version = Self.version(from: mv) else {
            throw RegistryError("MLflow model-versions/create answered without a model_version" + removeVersions(of: run.id, model: c.model))
        }
        if let status = mv["status"] as? String, status == "FAILED_REGISTRATION" {
            throw RegistryError("MLflow could not register version \(version.version): \(mv["status_message"] as? String ?? "no reason given")"
                                + removeVersions(of: run.id, model: c.model))
        }
        var registered = version
        registered.metrics = c.metrics
        registered.datasetVersions = c.datasetVersions
        return registered
    }

    /// Deletes the model versions made from `run`; says what it could not do.
    private func removeVersions(of run: String, model: String) -> String {
        do throws(RegistryError) {
            let found = try client.call("GET", "model-versions/search", query: [("filter", "run_id='\(run)'")])
            for mv in found["model_versions"] as? [[String: Any]] ?? [] {
                guard mv["name"] as? String == model, let version = mv["version"] as? String else { continue }
                _ = try client.call("DELETE", "model-versions/delete", body: ["name": model, "version": version])
            }
            return ""
        } catch {
            return "; a model version of MLflow run \(run) may be left over (removing it failed: \(error.description))"
        }
    }

    public func record(verdict: String, of version: RegisteredVersion) throws(RegistryError) {
        _ = try client.call("POST", "model-versions/set-tag", body: ["name": version.model, "version": version.version, "key": "sluice.verdict", "value": verdict])
        if let run = version.trackingRun { try client.setTag(run: run, "sluice.verdict", verdict) }
    }

    public func version(model: String, version: String) throws(RegistryError) -> RegisteredVersion? {
        do throws(RegistryError) {
            let json = try client.call("GET", "model-versions/get", query: [("name", model), ("version", version)])
            return (json["model_version"] as? [String: Any]).flatMap { Self.version(from: $0) }
        } catch where error.code == "RESOURCE_DOES_NOT_EXIST" {
            return nil
        }
    }

    public func setProduction(model: String, version: String) throws(RegistryError) {
        _ = try client.call("POST", "registered-models/alias", body: ["name": model, "alias": alias, "version": version])
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
                                 metrics: metrics, datasetVersions: datasets, artifactDigest: tags["sluice.artifact_digest"],
                                 source: mv["source"] as? String, trackingRun: (mv["run_id"] as? String).flatMap { $0.isEmpty ? nil : $0 })
    }

    static func now() -> Double { Date().timeIntervalSince1970 }
}
