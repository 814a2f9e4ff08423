/// Which stage output is the model: what a registry stores as the version's files and what
/// the gate compares by digest.
public struct ModelOutput: Hashable, Sendable {
    public var stage: String
    /// The output as the stage declares it (`model/`).
    public var declared: String
    /// The same path without a trailing slash (`model`), as artifacts are matched.
    public var path: String { Self.normalized(declared) }

    public init(stage: String, declared: String) {
        self.stage = stage
        self.declared = declared
    }

    static func normalized(_ path: String) -> String {
        var p = path
        while p.hasSuffix("/") { p.removeLast() }
        while p.hasPrefix("./") { p.removeFirst(2) }
        return p
    }

    /// Whether an artifact stored under `path` is this output.
    public func matches(_ artifactPath: String) -> Bool { Self.normalized(artifactPath) == path }
}

extension PipelineSpec {
    /// Every declared output, with its stage, in file order.
    public var declaredOutputs: [ModelOutput] {
        stages.flatMap { stage in stage.outputs.map { ModelOutput(stage: stage.name, declared: $0) } }
    }

    /// The model: `gate.artifact`; else the single output of the only stage that declares
    /// outputs; else the single output of the only training stage (one with `when.datasets`).
    /// Nil when none of these decides.
    public var modelOutput: ModelOutput? {
        let outputs = declaredOutputs
        if let named = gate?.artifact {
            return outputs.first { $0.matches(named) }
        }
        let producing = stages.filter { !$0.outputs.isEmpty }
        if producing.count == 1, producing[0].outputs.count == 1 {
            return ModelOutput(stage: producing[0].name, declared: producing[0].outputs[0])
        }
        let training = producing.filter { !($0.when?.datasets.isEmpty ?? true) }
        if training.count == 1, training[0].outputs.count == 1 {
            return ModelOutput(stage: training[0].name, declared: training[0].outputs[0])
        }
        return nil
    }
}
