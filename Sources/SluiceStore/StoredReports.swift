import FoundationEssentials
public import SluiceCore

/// The kinds of report stored with a run, and how a gate report is stored: JSON (sorted keys)
/// under the kind `gate`. The writers (the gate, the pipeline) and the readers (the UI,
/// `sluice report`, the operator's promote) share them. (`DeploymentReport.kind` is `deploy`.)
extension ReportRecord {
    /// The gate's report.
    public static let gateKind = "gate"
    /// What happened to a passed candidate's promotion when it did not happen (a lost race).
    public static let promotionEventKind = "promotion"
    /// Why a forge did not get the run's statuses or comment.
    public static let notificationsKind = "notifications"
    /// The candidate's model files signed in the OpenSSF model-signing format (`gate.signing`): the bundle, JSON.
    public static let modelSignatureKind = "model-signature"
    /// The candidate's SLSA provenance and the gate's statement (`gate.signing`): DSSE envelopes, JSON.
    public static let provenanceKind = "provenance"
    public static let gateAttestationKind = "gate-attestation"
    /// A signed statement of who approved the version into an environment: kind
    /// `approval-attestation:<environment>` (a run's reports are keyed by stage and kind).
    public static func approvalAttestationKind(environment: String) -> String { "approval-attestation:" + environment }
    public static func isApprovalAttestation(_ kind: String) -> Bool { kind.hasPrefix("approval-attestation:") }

    /// The record that stores `report` with run `runID`.
    public static func gate(_ report: GateReport, runID: Int64) throws -> ReportRecord {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(report), as: UTF8.self)
        return ReportRecord(runId: runID, stage: "gate", kind: gateKind, path: "gate-report.json", content: json)
    }

    /// The gate report among a run's stored reports: nil when the run has none, an error when
    /// the stored one cannot be read.
    public static func gateReport(in reports: [ReportRecord]) throws -> GateReport? {
        guard let stored = reports.first(where: { $0.kind == gateKind }) else { return nil }
        return try JSONDecoder().decode(GateReport.self, from: Data(stored.content.utf8))
    }
}
