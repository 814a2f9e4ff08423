import FoundationEssentials
public import SluiceCore

/// What `sluice validate` checks about the data schemas `sluice.yaml` names: each schema of a
/// `validate-data` stage that is in the repository decodes as the stage would decode it at run
/// time, so `type: float` or `nulable: true` is an error at its schema's line, not a failed run.
/// (A schema a stage writes is not there yet and is checked when the stage runs.)
public enum DataSchemaCheck {
    public static func diagnostics(_ spec: PipelineSpec, repositoryRoot root: String) -> [Diagnostic] {
        var checked: Set<String> = []
        var found: [Diagnostic] = []
        for stage in spec.stages where stage.uses == .validateData {
            guard let schema = stage.with.first(where: { $0.key == "schema" })?.value, checked.insert(schema).inserted,
                  FileManager.default.fileExists(atPath: root + "/" + schema) else { continue }
            do throws(DiagnosticsError) {
                _ = try DataSetValidation.loadSchema(path: root + "/" + schema, name: schema)
            } catch {
                found += error.diagnostics
            }
        }
        return found
    }
}
