import FoundationEssentials
public import SluiceCore

/// What `sluice validate` checks about the gate beyond `sluice.yaml` itself: the policy
/// file parses, some stage writes metrics, and (where a metrics file is committed) the
/// policy's metrics are in it.
public enum GateCheck {
    public static func diagnostics(_ spec: PipelineSpec, repositoryRoot root: String) -> [Diagnostic] {
        guard let gate = spec.gate else { return [] }
        guard let bytes = FileManager.default.contents(atPath: root + "/" + gate.policy) else { return [] }  // missing: SpecDecoder said so
        let policy: Policy
        do throws(DiagnosticsError) {
            policy = try PolicyLoader.policy(bytes: [UInt8](bytes), file: gate.policy)
        } catch {
            return error.diagnostics
        }
        let metricFiles = spec.stages.compactMap(\.metrics)
        if metricFiles.isEmpty {
            return [.error(at: gate.location, "the gate judges metrics (\(policy.rules.map(\.metric).joined(separator: ", "))), but no stage declares 'metrics:'",
                           hint: "add 'metrics: metrics.json' to the stage that evaluates the model")]
        }
        // Metrics files committed to the repository tell which names exist.
        var known: Set<String> = []
        var readAny = false
        for file in metricFiles {
            guard let data = FileManager.default.contents(atPath: root + "/" + file),
                  let set = try? PolicyLoader.metrics(bytes: [UInt8](data), file: file) else { continue }
            readAny = true
            known.formUnion(set.values.keys)
            for slice in set.slices.values { known.formUnion(slice.keys) }
        }
        guard readAny else { return [] }
        return (policy.rules.map { ($0.metric, $0.location) } + policy.required.map { ($0, SourceLocation(file: gate.policy, line: 1, column: 1)) })
            .filter { !known.contains($0.0) }
            .map { metric, location in
                .warning(at: location, "no stage's metrics file has '\(metric)' (\(metricFiles.joined(separator: ", ")) has: \(known.sorted().joined(separator: ", ")))",
                         hint: Suggestion.hint(for: metric, in: Array(known)) ?? "the gate will fail this rule as a missing metric")
            }
    }
}
