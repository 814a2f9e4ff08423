import FoundationEssentials
import SluiceCore

/// Each gated candidate as an MLflow run: in an experiment named after the model, with its
/// metrics (slices included), resolved params, dataset versions and lineage as tags.
extension MLflowClient {
    /// A run as MLflow created it.
    struct TrackedRun {
        var id: String
        var experimentID: String
        var artifactURI: String
    }

    /// The experiment's id, created on first use (a concurrent creator is fine).
    func experimentID(named name: String) throws(RegistryError) -> String {
        for attempt in 0..<2 {
            do throws(RegistryError) {
                let json = try call("GET", "experiments/get-by-name", query: [("experiment_name", name)])
                if let experiment = json["experiment"] as? [String: Any], let id = experiment["experiment_id"] as? String {
                    if experiment["lifecycle_stage"] as? String == "deleted" {
                        throw RegistryError("the MLflow experiment '\(name)' is deleted; restore it in MLflow or set gate.experiment to another name")
                    }
                    return id
                }
                throw RegistryError("MLflow experiments/get-by-name answered without an experiment id")
            } catch where error.code == "RESOURCE_DOES_NOT_EXIST" {
                do throws(RegistryError) {
                    let created = try call("POST", "experiments/create", body: ["name": name])
                    if let id = created["experiment_id"] as? String { return id }
                    throw RegistryError("MLflow experiments/create answered without an experiment id")
                } catch where error.code == "RESOURCE_ALREADY_EXISTS" && attempt == 0 {
                    continue  // created by someone else in between: read it again
                }
            }
        }
        throw RegistryError("the MLflow experiment '\(name)' could not be found or created")
    }

    func createRun(_ c: Candidate, experimentID: String, now: Double) throws(RegistryError) -> TrackedRun {
        var tags = [
            ("mlflow.runName", "sluice-run-\(c.runID)"),
            ("mlflow.user", "sluice"),
            ("mlflow.source.type", "JOB"),
            ("mlflow.source.name", c.repository),
            ("mlflow.source.git.commit", c.commit),
            ("mlflow.note.content", "Candidate from commit \(c.commit.prefix(12)) of \(c.repository), Sluice run \(c.runID)"
                + (c.runURL.map { ": \($0)" } ?? "")),
            ("sluice.commit", c.commit),
            ("sluice.run", String(c.runID)),
            ("sluice.repository", c.repository),
        ]
        if let ref = c.ref { tags.append(("sluice.ref", ref)) }
        if let url = c.runURL { tags.append(("sluice.run_url", url)) }
        if let digest = c.artifactDigest { tags.append(("sluice.artifact_digest", digest)) }
        if let files = c.modelFiles { tags.append(("sluice.model_output", files.output)) }
        for (name, version) in c.datasetVersions.sorted(by: { $0.key < $1.key }) {
            tags.append((MLflowKeys.legal("sluice.dataset." + name), version))
        }
        let json = try call("POST", "runs/create", body: [
            "experiment_id": experimentID, "run_name": "sluice-run-\(c.runID)", "start_time": Int64(now * 1000),
            "tags": tags.map { ["key": $0.0, "value": MLflowKeys.tagValue($0.1)] },
        ])
        guard let run = json["run"] as? [String: Any], let info = run["info"] as? [String: Any],
              let id = info["run_id"] as? String, let uri = info["artifact_uri"] as? String else {
            throw RegistryError("MLflow runs/create answered without a run id and artifact URI")
        }
        return TrackedRun(id: id, experimentID: experimentID, artifactURI: uri)
    }

    /// Logs metrics, params and the remaining tags in batches within MLflow's limits
    /// (1000 metrics, 100 params, 100 tags, 1000 entries per request).
    func logCandidate(_ c: Candidate, run: TrackedRun, now: Double) throws(RegistryError) {
        let timestamp = Int64(now * 1000)
        let metrics = MLflowKeys.metrics(c.metrics).map { ["key": $0.key, "value": $0.value, "timestamp": timestamp, "step": 0] as [String: Any] }
        let params = MLflowKeys.params(c.parameters).map { ["key": $0.key, "value": $0.value] }
        let tags = [["key": "sluice.metrics", "value": MLflowKeys.tagValue(c.metricsJSON)]]
        var m = metrics[...], p = params[...], t = tags[...]
        while !m.isEmpty || !p.isEmpty || !t.isEmpty {
            let pc = min(100, p.count), tc = min(100, t.count)
            let mc = min(1000 - pc - tc, m.count)
            _ = try call("POST", "runs/log-batch", body: [
                "run_id": run.id, "metrics": Array(m.prefix(mc)), "params": Array(p.prefix(pc)), "tags": Array(t.prefix(tc)),
            ])
            m = m.dropFirst(mc); p = p.dropFirst(pc); t = t.dropFirst(tc)
        }
    }

    func setTag(run: String, _ key: String, _ value: String) throws(RegistryError) {
        _ = try call("POST", "runs/set-tag", body: ["run_id": run, "key": key, "value": MLflowKeys.tagValue(value)])
    }

    func finish(run: String, status: String, now: Double) throws(RegistryError) {
        _ = try call("POST", "runs/update", body: ["run_id": run, "status": status, "end_time": Int64(now * 1000)])
    }
}

/// MLflow's rules for names and values, applied to what a repository's metrics and params
/// files say (untrusted: any text, any size).
public enum MLflowKeys {
    /// Longest metric, param or tag key MLflow accepts.
    static let maxKey = 250
    /// Longest param value (MLflow 2.x and later).
    static let maxParamValue = 6000
    /// Longest tag value MLflow accepts (a longer one is cut, with a marker).
    static let maxTagValue = 8000

    /// A key MLflow accepts (letters, digits, `_ - . : /` and spaces, no `.`/`..` path
    /// segment, no leading `/`, at most 250 characters); other characters become `_`.
    public static func legal(_ key: String) -> String {
        let mapped = String(key.unicodeScalars.map { s -> Character in
            let ok = (s.value < 128 && (s.properties.isAlphabetic || ("0"..."9").contains(s) || "_-.:/ ".unicodeScalars.contains(s)))
            return ok ? Character(s) : "_"
        })
        var segments = mapped.split(separator: "/", omittingEmptySubsequences: true).map { seg -> String in
            seg == "." || seg == ".." ? String(repeating: "_", count: seg.count) : String(seg)
        }
        if segments.isEmpty { segments = ["_"] }
        return String(segments.joined(separator: "/").prefix(maxKey))
    }

    /// Metrics by legal key: `accuracy`, and each slice as `slices/<slice>/<metric>`.
    /// Non-finite values are left out (MLflow's JSON cannot carry them); keys that collide
    /// after cleaning get `_2`, `_3`, ....
    public static func metrics(_ set: MetricSet) -> [(key: String, value: Double)] {
        var named: [(String, Double)] = set.values.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        for (slice, values) in set.slices.sorted(by: { $0.key < $1.key }) {
            for (metric, value) in values.sorted(by: { $0.key < $1.key }) { named.append(("slices/\(slice)/\(metric)", value)) }
        }
        return unique(named.filter { $0.1.isFinite }).map { (key: $0.0, value: $0.1) }
    }

    /// Params by legal key, values cut to MLflow's limit.
    public static func params(_ parameters: [String: String]) -> [(key: String, value: String)] {
        unique(parameters.sorted { $0.key < $1.key }.map { ($0.key, String($0.value.prefix(maxParamValue))) }).map { (key: $0.0, value: $0.1) }
    }

    static func tagValue(_ value: String) -> String {
        value.count <= maxTagValue ? value : String(value.prefix(maxTagValue - 20)) + " … (cut by Sluice)"
    }

    private static func unique<V>(_ pairs: [(String, V)]) -> [(String, V)] {
        var seen = Set<String>()
        return pairs.map { key, value in
            let base = legal(key)
            var candidate = base
            var n = 2
            while !seen.insert(candidate).inserted {
                candidate = String(base.prefix(maxKey - 4)) + "_\(n)"
                n += 1
            }
            return (candidate, value)
        }
    }
}
