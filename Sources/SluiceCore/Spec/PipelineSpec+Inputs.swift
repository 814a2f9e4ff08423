extension PipelineSpec {
    /// The repository files a run reads from its commit besides `sluice.yaml` itself: the gate's
    /// policy, the stages' parameter files and the data schemas of `validate-data` stages, once
    /// each, in file order.
    public var configurationFiles: [String] {
        var files: [String] = []
        if let policy = gate?.policy { files.append(policy) }
        for stage in stages {
            files += stage.params.map(\.file)
            if stage.uses == .validateData, let schema = stage.with.first(where: { $0.key == "schema" })?.value { files.append(schema) }
        }
        var seen: Set<String> = []
        return files.filter { seen.insert($0).inserted }
    }
}
