/// Decides, for one commit, which stages run and why. Pure: everything it needs
/// comes in as values (`ChangeFacts`) or through `CommitContent`.
///
/// Rules, in order:
/// 1. A stage without `when` runs on every commit.
/// 2. A stage with `when` runs if a changed path (either side of a rename) matches
///    one of its globs, or one of its datasets changed version. On the first commit
///    of a ref (no base) every stage runs.
/// 3. A stage runs if a stage it needs runs and declares `outputs` (the artifacts it
///    consumes may change). Gates without outputs (lint, test) do not propagate.
/// 4. Every stage a running stage needs runs too ("needed by").
/// 5. A stage that would run but whose cache key is in `knownCacheKeys` is `cached`,
///    unless a schedule or live metric triggered it (`facts.triggered`): then it runs.
public enum Planner {
    public static func plan(spec: PipelineSpec, content: some CommitContent, facts: ChangeFacts,
                            knownCacheKeys: Set<String> = []) -> Plan {
        let graph = NeedsGraph(stages: spec.stages)
        let order = graph.topologicalOrder()
        let byName = Dictionary(spec.stages.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let touched = facts.changes.flatMap(\.touchedPaths)

        var reasons: [String: [String]] = [:]
        var runs = Set<String>()

        // Rules 1-3, in dependency order so upstream decisions are known.
        for name in order {
            guard let stage = byName[name] else { continue }
            var why: [String] = []
            if facts.baseCommit == nil {
                why.append("first commit on this ref")
            } else if let when = stage.when {
                let matched = touched.filter { path in when.paths.contains { $0.matches(path) } }
                if !matched.isEmpty { why.append("paths changed: " + summarize(matched)) }
                for dataset in when.datasets {
                    let now = facts.datasetVersions[dataset], before = facts.baseDatasetVersions[dataset]
                    if now != before { why.append("dataset \(dataset) changed: \(short(before)) -> \(short(now))") }
                }
                if why.isEmpty, let untrained = untrained(when.datasets, facts) { why.append(untrained) }
            } else {
                why.append("runs on every commit (no 'when')")
            }
            if let reason = facts.triggered[name] { why.append(reason) }
            let upstream = stage.needs.filter { runs.contains($0) && byName[$0]?.outputs.isEmpty == false }
            if why.isEmpty, !upstream.isEmpty { why.append("upstream \(upstream.joined(separator: ", ")) runs") }
            if !why.isEmpty {
                runs.insert(name)
                reasons[name] = why
            }
        }
        // Rule 4: pull in what running stages need, walking from the last stage backwards.
        let ownReasons = runs
        for name in order.reversed() where runs.contains(name) {
            for need in byName[name]?.needs ?? [] where !ownReasons.contains(need) {
                runs.insert(need)
                if reasons[need]?.contains("needed by \(name)") != true {
                    reasons[need, default: []].append("needed by \(name)")
                }
            }
        }

        // Cache keys in dependency order (each includes the keys of what it needs).
        var keys: [String: String] = [:]
        for name in order {
            guard let stage = byName[name] else { continue }
            keys[name] = CacheKey.compute(stage: stage, spec: spec, content: content,
                                          datasetVersions: facts.datasetVersions,
                                          neededKeys: stage.needs.compactMap { keys[$0] })
        }

        let stages: [PlannedStage] = order.compactMap { name in
            guard let stage = byName[name], let key = keys[name] else { return nil }
            var decision: PlannedStage.Decision = runs.contains(name) ? .run : .skip
            var why = reasons[name] ?? ["no declared input changed"]
            let forced = facts.triggered[name] != nil
            if decision == .run, stage.cache, !forced, knownCacheKeys.contains(key) {
                decision = .cached
                why.append("cache hit \(key.prefix(12))")
            }
            return PlannedStage(name: name, decision: decision, reasons: why, cacheKey: key, needs: stage.needs, forced: forced)
        }
        return Plan(commit: content.commitID, baseCommit: facts.baseCommit, stages: stages, notes: facts.notes)
    }

    /// Rule 2's level-triggered half: the reason a stage's datasets still need training, or nil
    /// when a production model or gated candidate was trained on exactly these versions.
    static func untrained(_ datasets: [String], _ facts: ChangeFacts) -> String? {
        guard let trained = facts.trained, !datasets.isEmpty else { return nil }
        let now = datasets.map { facts.datasetVersions[$0] }
        if trained.contains(where: { t in datasets.map { t.datasetVersions[$0] } == now }) { return nil }
        let versions = zip(datasets, now).map { "\($0) \(short($1))" }.joined(separator: ", ")
        guard let last = trained.last else { return "no model was trained on \(versions) yet" }
        let theirs = datasets.map { "\($0) \(short(last.datasetVersions[$0]))" }.joined(separator: ", ")
        return "no model was trained on \(versions) yet (\(last.label): \(theirs))"
    }

    static func summarize(_ paths: [String]) -> String {
        let unique = Array(Set(paths)).sorted()
        let shown = unique.prefix(3).joined(separator: ", ")
        return unique.count > 3 ? "\(shown) (+\(unique.count - 3) more)" : shown
    }

    static func short(_ version: String?) -> String {
        guard let version else { return "none" }
        return version.count > 10 ? String(version.prefix(8)) + ".." : version
    }
}
