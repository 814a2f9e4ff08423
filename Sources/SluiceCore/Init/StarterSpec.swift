/// The files `sluice init` writes from `RepositoryFacts`: a commented `sluice.yaml` and a
/// promotion policy. Each guess says so in a comment, with what to edit next; what was not
/// found is left as a commented example rather than a stage that would fail.
public enum StarterSpec {
    public static let policyPath = "policies/promotion.yaml"
    /// The metrics file the last stage is declared to write.
    public static let metricsFile = "metrics.json"

    public static func sluiceYAML(_ facts: RepositoryFacts) -> String {
        var out = """
        # Written by `sluice init`: check each stage's command, then `sluice validate` and `sluice run`.
        version: 1

        """
        if !facts.dataFiles.isEmpty {
            out += "# Data versions: a changed dataset re-runs the stages that read it (continuous training).\n"
            out += "datasets:\n"
            for d in facts.dataFiles {
                out += "  \(SchemaInference.scalar(d.name)): { " + (d.dvcPointer.map { "dvc: \(quoted($0))" } ?? "path: \(quoted(d.path))") + " }\n"
            }
        }
        out += "stages:\n"
        var previous: [String] = []
        if let folders = facts.lintFolders {
            out += "  lint:\n    run: [ruff, check\(folders.map { ", " + quoted($0) }.joined())]\n"
            previous = ["lint"]
        }
        if let tests = facts.testFolder {
            out += "  test:\n    run: [pytest, -q, \(quoted(tests))]\n"
            if !previous.isEmpty { out += "    needs: [\(previous.joined(separator: ", "))]\n" }
            previous = ["test"]
        }
        var validations: [String] = []
        for d in facts.dataFiles {
            let name = "validate-\(d.name)"
            validations.append(name)
            if let pointer = d.dvcPointer {
                out += "  fetch-\(d.name):\n    # DVC-tracked data is not in git: the stage pulls it from the DVC remote.\n"
                out += "    run: [dvc, pull, -q, \(quoted(pointer))]\n    when: { datasets: [\(SchemaInference.scalar(d.name))] }\n"
                out += "    outputs: [\(quoted(d.path))]\n"
            }
            out += "  \(name):\n    uses: validate-data\n    with: { data: \(quoted(d.path)), schema: \(quoted(d.schema)) }\n"
            // Validated again when the data or its schema changes.
            out += d.dvcPointer == nil ? "    when: { datasets: [\(SchemaInference.scalar(d.name))], paths: [\(quoted(d.schema))] }\n" : "    needs: [fetch-\(d.name)]\n"
        }
        let trainNeeds = previous + validations
        let metricsStage: String
        if let train = facts.trainScript {
            out += "  train:\n    # Check the arguments your script takes; declare what it writes as outputs (cached, passed on).\n"
            out += "    run: [python3, \(quoted(train))]\n"
            if !trainNeeds.isEmpty { out += "    needs: [\(trainNeeds.joined(separator: ", "))]\n" }
            if let params = facts.paramsFile { out += "    params: [\(quoted(params))]\n" }
            out += "    # outputs: [model/]\n"
            if facts.evaluateScript == nil {
                out += "    metrics: \(metricsFile)   # the metrics file training writes (numbers by name)\n"
            }
            metricsStage = "train"
        } else {
            out += "  # train:\n  #   run: [python3, train.py]     # no training script found: add the stage that trains\n"
            metricsStage = facts.evaluateScript == nil ? "" : "evaluate"
        }
        if let evaluate = facts.evaluateScript {
            out += "  evaluate:\n    # It must write \(metricsFile) (numbers; nested objects are read as dotted names, a \"slices\" object as slices).\n"
            out += "    run: [python3, \(quoted(evaluate))]\n"
            let needs = facts.trainScript != nil ? ["train"] : trainNeeds
            if !needs.isEmpty { out += "    needs: [\(needs.joined(separator: ", "))]\n" }
            out += "    metrics: \(metricsFile)\n"
        }
        if !metricsStage.isEmpty || facts.evaluateScript != nil {
            out += """
            # The gate compares the candidate's metrics with the model in production under the policy;
            # a passing candidate on the production branch is registered and promoted.
            gate:
              policy: \(policyPath)
              model: \(SchemaInference.scalar(facts.model))

            """
        } else {
            out += "# gate: { policy: \(policyPath), model: \(SchemaInference.scalar(facts.model)) }   # once a stage writes metrics\n"
        }
        if let manifests = facts.manifests {
            out += """
            # Rendered with the promoted version's facts and written to the branch sluice/env/production
            # (for Argo CD or Flux to sync); `target: kubernetes` applies them to a cluster instead.
            deploy:
              manifests: \(quoted(manifests.hasSuffix("/") ? manifests : manifests + "/"))
              target: branch
              environment: production

            """
        }
        return out
    }

    /// A policy over the metrics found (direction only, and no worse than production by 1%),
    /// or a commented example when none was recognised.
    public static func policyYAML(_ facts: RepositoryFacts) -> String {
        var out = """
        # Promotion policy, written by `sluice init`. Each rule names a metric of \(metricsFile); add
        # absolute bounds (min, max) once you know what a good model scores, and `slices: all` to
        # judge every slice too.

        """
        let metrics = facts.metrics.isEmpty ? [RepositoryFacts.Metric(name: "accuracy", higherIsBetter: true)] : facts.metrics
        if facts.metrics.isEmpty {
            out += "# No metric name was recognised in the evaluation: 'accuracy' is a placeholder.\n"
        }
        out += "rules:\n"
        for m in metrics {
            out += "  - metric: \(SchemaInference.scalar(m.name))\n    direction: \(m.higherIsBetter ? "higher" : "lower")\n"
            out += "    vs-production: { tolerance: 1% }\n"
        }
        return out
    }

    private static func quoted(_ text: String) -> String { SchemaInference.scalar(text) }
}
