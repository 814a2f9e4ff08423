public import SluiceCore
public import SluiceRegistry
public import SluiceStore

/// A run's model as the registry gets it: the output `PipelineSpec.modelOutput` names, with
/// its files in Sluice's artifact store.
public enum CandidateModel {
    /// The stored record of the model output among a run's artifacts; without a model output
    /// (no spec, or none decides), the run's first artifact, as before `gate.artifact` existed.
    public static func artifact(spec: PipelineSpec?, in artifacts: [ArtifactRecord]) -> ArtifactRecord? {
        guard let output = spec?.modelOutput else { return artifacts.first }
        return artifacts.first { $0.stage == output.stage && output.matches($0.path) }
    }

    /// The version the registry already holds for this model output (the same artifact digest
    /// and the same metrics), so gating it again or promoting it by hand does not register the
    /// same model twice. The newest such version when several are.
    public static func registered(model: String, digest: String?, metrics: MetricSet, store: RunStore,
                                  registry: any ModelRegistry) throws -> RegisteredVersion? {
        guard let digest else { return nil }
        for record in try store.modelVersions(model: model).reversed() where record.artifactDigest == digest {
            if let version = try registry.version(model: model, version: record.version), version.metrics == metrics { return version }
        }
        return nil
    }

    /// The model output's files, or nil when the run stored none.
    public static func files(spec: PipelineSpec?, artifacts: [ArtifactRecord], store: RunStore) throws -> ModelFiles? {
        guard spec?.modelOutput != nil, let record = artifact(spec: spec, in: artifacts) else { return nil }
        let files = try store.artifactStore.files(of: record.digest, kind: record.kind, relative: record.path)
        return ModelFiles(output: ModelOutput(stage: record.stage, declared: record.path).path, digest: record.digest,
                          isDirectory: record.kind == .directory, files: files)
    }
}

/// The address of a run's page on the web UI: `SLUICE_REPORT_URL` (e.g.
/// `https://sluice.example.com/runs/{run}`), else `SLUICE_ADVERTISE_URL` + `/runs/{run}`.
public struct RunPageLink: Sendable {
    public let template: String?

    public init(template: String?) { self.template = template }

    public init(environment: [String: String]) {
        template = environment["SLUICE_REPORT_URL"] ?? environment["SLUICE_ADVERTISE_URL"].map { base in
            (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/runs/{run}"
        }
    }

    public func url(_ run: Int64) -> String? { template?.replacing("{run}", with: String(run)) }
}

extension CandidateModel {
    /// Run `run`'s candidate for the registry: its metrics and lineage, its model files from the
    /// artifact store, where it came from. The gate and the operator's `promote RUN` both build it here.
    public static func candidate(model: String, run: RunRecord, metrics: MetricSet, metricsJSON: String, datasetVersions: [String: String],
                                 parameters: [String: String], spec: PipelineSpec?, artifacts: [ArtifactRecord], store: RunStore,
                                 environment: [String: String]) throws -> Candidate {
        var c = Candidate(model: model, commit: run.commit, runID: run.id!, metrics: metrics, metricsJSON: metricsJSON,
                          datasetVersions: datasetVersions, parameters: parameters, artifactDigest: artifact(spec: spec, in: artifacts)?.digest)
        c.modelFiles = try files(spec: spec, artifacts: artifacts, store: store)
        c.repository = run.repository
        c.ref = run.ref
        c.runURL = RunPageLink(environment: environment).url(run.id!)
        c.experiment = spec?.gate?.experiment
        return c
    }
}
