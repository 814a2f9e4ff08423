import Crypto
import FoundationEssentials
public import SluiceCore
import SluiceGit
import SluiceRegistry
import SluiceStore

/// Signs a registered candidate's model files with the key `gate.signing` names (see
/// `ModelSignature` for the format). The key is read where Sluice runs, never from the repository.
enum ModelSigning {
    struct Signed {
        var bundle: String
        var files: [ModelSignature.File]
        var key: P256.Signing.PrivateKey
        var keyID: String
    }

    /// The bundle (JSON) for `files`; throws when the key cannot be read or there is nothing to sign.
    static func sign(_ files: ModelFiles?, signing: GateSpec.Signing, environment: [String: String]) throws -> Signed {
        guard let files, !files.files.isEmpty else {
            throw LoadError(message: "gate.signing: the candidate has no model files to sign", hint: "declare the model's output (gate.artifact or the stage's outputs)")
        }
        let key = try privateKey(signing, environment: environment)
        let signed = files.files.map { ModelSignature.File(path: $0.path, sha256: String($0.digest.dropFirst("sha256:".count))) }
        return Signed(bundle: try ModelSignature.bundle(model: files.name, files: signed, key: key, keyID: signing.keyID), files: signed,
                      key: key, keyID: signing.keyID)
    }

    /// The provenance and gate statements of a signed candidate, signed, stored with the run and
    /// recorded with the bundle in the repository (`AttestationRecord`). Returns the gate report's summary line.
    static func attest(_ signed: Signed, report: GateReport, run: RunRecord, version: String, inputs: [Attestations.Dependency], store: RunStore,
                       repository: GitRepository, environment: [String: String]) throws -> String {
        let builder = "sluice \(SluiceVersion.current)" + (environment["POD_NAME"].map { " (\($0))" } ?? "")
        let build = Attestations.Build(repository: run.repository, ref: run.ref, commit: run.commit, specFile: CommitPlanner.specFile, dependencies: inputs,
                                       builder: builder, run: run.id!, startedAt: run.startedAt, finishedAt: WallClock.now())
        let provenance = try Attestations.envelope(Attestations.provenance(files: signed.files, build: build), key: signed.key, keyID: signed.keyID)
        let gate = try Attestations.envelope(Attestations.gate(files: signed.files, report: report), key: signed.key, keyID: signed.keyID)
        try store.saveReport(ReportRecord(runId: run.id!, stage: "gate", kind: ReportRecord.provenanceKind, path: "provenance.intoto.json", content: provenance))
        try store.saveReport(ReportRecord(runId: run.id!, stage: "gate", kind: ReportRecord.gateAttestationKind, path: "gate.intoto.json", content: gate))
        try AttestationRecord.write(model: report.model, version: version, files: [(AttestationRecord.signatureFile, signed.bundle),
                                    (AttestationRecord.provenanceFile, provenance), (AttestationRecord.gateFile, gate)], repository: repository)
        let data = inputs.map { "\($0.name) \($0.digest.values.first?.prefix(12) ?? "")" }.joined(separator: ", ")
        return "signed" + (signed.keyID.isEmpty ? "" : " by key \(signed.keyID)") + ": \(signed.files.count) model file(s) (OpenSSF model signing); "
            + "provenance: commit \(CommitID(run.commit).short)" + (data.isEmpty ? "" : ", data \(data)") + "; the gate's statement of this verdict"
    }

    /// With `gate.signing`, a signed statement of a manual approval into `approval.environment`,
    /// stored with the version's run and recorded in the repository. Returns the refs written
    /// ([] when the version was not signed: there are no files to make the statement about).
    static func attest(_ approval: Attestations.Approval, of version: RegisteredVersion, spec: PipelineSpec, store: RunStore,
                       repository: GitRepository, environment: [String: String]) throws -> [String] {
        guard let signing = spec.gate?.signing, let run = version.runID, let bundle = try bundle(run: run, store: store) else { return [] }
        let key = try privateKey(signing, environment: environment)
        let envelope = try Attestations.envelope(Attestations.approval(files: try ModelSignature.files(inBundle: bundle), approval),
                                                 key: key, keyID: signing.keyID)
        let file = AttestationRecord.approvalFile(approval.environment)
        try store.saveReport(ReportRecord(runId: run, stage: "gate", kind: ReportRecord.approvalAttestationKind(environment: approval.environment), path: file, content: envelope))
        try AttestationRecord.write(model: version.model, version: version.version, files: [(file, envelope)], repository: repository)
        return [AttestationRecord.ref]
    }

    /// The signature bundle the gate stored for run `run`'s model, nil when it was not signed.
    static func bundle(run: Int64, store: RunStore) throws -> String? {
        try store.reports(of: run, kind: ReportRecord.modelSignatureKind).last?.content
    }

    static func privateKey(_ signing: GateSpec.Signing, environment: [String: String]) throws -> P256.Signing.PrivateKey {
        let pem: String
        if let name = signing.keyEnv {
            guard let value = environment[name], !value.isEmpty else {
                throw LoadError(message: "gate.signing.key-env: \(name) is not set in the environment", hint: "export it with the PEM of an ECDSA P-256 private key")
            }
            pem = value
        } else if let path = signing.keyFile {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw LoadError(message: "gate.signing.key: \(path) cannot be read where Sluice runs", hint: "the key lives on the controller's machine (a mounted Secret), not in the repository")
            }
            pem = String(decoding: data, as: UTF8.self)
        } else {
            throw LoadError(message: "gate.signing names no key")
        }
        do { return try P256.Signing.PrivateKey(pemRepresentation: pem) } catch {
            throw LoadError(message: "gate.signing: the key is not an ECDSA P-256 private key in PEM (\(error))",
                            hint: "openssl ecparam -name prime256v1 -genkey -noout -out signing.pem")
        }
    }
}
