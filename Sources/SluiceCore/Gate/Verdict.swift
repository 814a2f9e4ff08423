/// The gate's one answer for a run, decided in one place (`Verdict.decide`) from facts the
/// services gathered; the services then act on it (promote, deploy, tell the merge request).
public enum Verdict: String, Hashable, Sendable, Codable, CaseIterable {
    /// The production branch's candidate passed: it becomes production.
    case promote
    case reject
    /// A merge request or another branch, or nothing new to gate: a report, no promotion.
    case reportOnly = "report-only"
    /// The gate could not be evaluated (a policy that does not load, a registry that cannot be
    /// reached, ...): fail closed, nothing is promoted, the reason is stored with the run.
    case couldNotEvaluate = "could-not-evaluate"

    /// What the gate knows about a candidate when it decides.
    public struct Facts: Hashable, Sendable {
        /// Every rule passed (for the report's tick marks too).
        public var rulesPassed: Bool
        /// No data check failed.
        public var dataChecksPassed: Bool
        /// At least one stage wrote metrics.
        public var hasMetrics: Bool
        /// The run's ref is the production branch.
        public var isProductionRef: Bool
        /// The candidate is production's own model (same artifact and metrics): a docs-only commit.
        public var sameAsProduction: String?
        /// The same artifact and metrics were already gated, under the same policy.
        public var alreadyGated: String?
        /// A newer commit is already in production (the candidate's commit is its ancestor).
        public var supersededBy: String?
        /// The manifests do not render: the candidate cannot be deployed.
        public var renderError: String?
        /// The cluster refuses the rendered manifests (4xx on the dry run).
        public var clusterRefusal: String?

        public init(rulesPassed: Bool, dataChecksPassed: Bool, hasMetrics: Bool, isProductionRef: Bool, sameAsProduction: String? = nil,
                    alreadyGated: String? = nil, supersededBy: String? = nil, renderError: String? = nil, clusterRefusal: String? = nil) {
            self.rulesPassed = rulesPassed
            self.dataChecksPassed = dataChecksPassed
            self.hasMetrics = hasMetrics
            self.isProductionRef = isProductionRef
            self.sameAsProduction = sameAsProduction
            self.alreadyGated = alreadyGated
            self.supersededBy = supersededBy
            self.renderError = renderError
            self.clusterRefusal = clusterRefusal
        }
    }

    public struct Decision: Hashable, Sendable {
        public var verdict: Verdict
        /// Whether the candidate meets the policy, the data checks and is deployable (shown for report-only runs too).
        public var passed: Bool
        /// Why, in the order a reviewer reads them.
        public var reasons: [String]
        /// What decided the verdict besides the rules (not the production branch, nothing new,
        /// superseded), or nil when the rules and checks did.
        public var overriding: String? = nil
    }

    /// Reasons the report's tables already show row by row (left out of its notes).
    public static let summaryReasons = ["a policy rule is not met", "a data check failed"]

    /// The decision when the facts could not be gathered (a policy that does not load, a registry
    /// that cannot be reached): fail closed, nothing is promoted.
    public static func decide(unevaluable reason: String) -> Decision {
        Decision(verdict: .couldNotEvaluate, passed: false, reasons: ["the gate could not be evaluated: \(reason)"])
    }

    /// The gate's decision. Rules, in order: a candidate without metrics fails; rules and
    /// data checks must pass; manifests must render and be accepted by the cluster. Off the
    /// production branch the answer is report-only; on it, a candidate that is production's own
    /// model or was already gated is report-only (nothing new), one older than production is
    /// rejected, and otherwise it is promoted when it passed and rejected when not.
    public static func decide(_ f: Facts) -> Decision {
        var reasons: [String] = []
        if !f.hasMetrics { reasons.append("no stage wrote metrics: declare 'metrics:' on the evaluation stage") }
        if !f.rulesPassed { reasons.append(summaryReasons[0]) }
        if !f.dataChecksPassed { reasons.append(summaryReasons[1]) }
        if let e = f.renderError { reasons.append("the manifests do not render, so this candidate cannot be deployed: \(e)") }
        if let e = f.clusterRefusal { reasons.append("the cluster refuses these manifests, so this candidate cannot be deployed: \(e)") }
        let passed = reasons.isEmpty
        guard f.isProductionRef else {
            let why = "not the production branch: report only, nothing is promoted"
            return Decision(verdict: .reportOnly, passed: passed, reasons: reasons + [why], overriding: why)
        }
        if let same = f.sameAsProduction {
            let why = "no new candidate: \(same); nothing to register or promote"
            return Decision(verdict: .reportOnly, passed: passed, reasons: reasons + [why], overriding: why)
        }
        if let earlier = f.alreadyGated {
            let why = "no new candidate: \(earlier); nothing to register or promote"
            return Decision(verdict: .reportOnly, passed: passed, reasons: reasons + [why], overriding: why)
        }
        if let newer = f.supersededBy {
            let why = "superseded: \(newer)"
            return Decision(verdict: .reject, passed: passed, reasons: reasons + [why], overriding: why)
        }
        return Decision(verdict: passed ? .promote : .reject, passed: passed, reasons: reasons)
    }
}

/// Whether a run passed, decided here only: `sluice run`'s exit status, the merge request's commit
/// status and the controller's logs all ask this.
public enum RunPassed {
    /// - Parameters:
    ///   - stagesSucceeded: the run ended `succeeded`.
    ///   - gateEvaluated: false when a declared gate could not be evaluated (fail closed).
    ///   - candidatePassed: the gate report's `passed` (nil: no gate declared or reached).
    ///   - deployHealthy: the deploy's health (nil: nothing deployed).
    ///   - chainFailed: a version stopped in an environment on its way to production.
    public static func decide(stagesSucceeded: Bool, gateEvaluated: Bool = true, candidatePassed: Bool?, deployHealthy: Bool? = nil,
                              chainFailed: Bool = false) -> Bool {
        stagesSucceeded && gateEvaluated && candidatePassed != false && deployHealthy != false && !chainFailed
    }
}
