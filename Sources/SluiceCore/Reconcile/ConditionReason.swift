/// Every reason a condition can carry: one CamelCase word a program (an alert, a script) can
/// match on, with what it means and what to do about it. Setting a condition takes one of
/// these, so a new reason cannot be added without its explanation, and the reference page of
/// conditions (`sluice reference`) is generated from this list.
public enum ConditionReason: String, CaseIterable, Sendable, Hashable {
    // Fetched
    case fetched = "Fetched"
    case fetchFailed = "FetchFailed"
    // SourceVerified
    case signatureVerified = "SignatureVerified"
    case unverified = "Unverified"
    // SpecValid
    case valid = "Valid"
    case invalidSpec = "InvalidSpec"
    case noSpec = "NoSpec"
    // Trained
    case succeeded = "Succeeded"
    case runFailed = "RunFailed"
    case pipelineError = "PipelineError"
    case quarantined = "Quarantined"
    // Gated
    case promoted = "Promoted"
    case rejected = "Rejected"
    case nothingNew = "NothingNew"
    case gateNotEvaluated = "GateNotEvaluated"
    // Deployed
    case deployed = "Deployed"
    case upToDate = "UpToDate"
    case deployFailed = "DeployFailed"
    // InSync
    case inSync = "InSync"
    case drifted = "Drifted"
    case selfHealed = "SelfHealed"
    case selfHealFailed = "SelfHealFailed"
    case driftCheckFailed = "DriftCheckFailed"
    // Healthy
    case rolloutComplete = "RolloutComplete"
    case rolloutFailed = "RolloutFailed"
    // Sandboxed
    case landlock = "Landlock"
    case sandboxUnavailable = "SandboxUnavailable"
    case unsandboxed = "Unsandboxed"
    // Reported
    case reported = "Reported"
    case forgeUnauthorized = "ForgeUnauthorized"
    case forgeForbidden = "ForgeForbidden"
    case forgeError = "ForgeError"
    // Promoting
    case progressing = "Progressing"
    case canary = "Canary"
    case waitingForApproval = "WaitingForApproval"
    case superseded = "Superseded"
    case stopped = "Stopped"
    // RegistryInSync
    case registryMoved = "RegistryMoved"
    case registryMoveFailed = "RegistryMoveFailed"
    // Ready (besides the reason of the first condition that is not true)
    case reconciling = "Reconciling"
    case reconciled = "Reconciled"

    /// The condition that carries this reason.
    public var kind: Condition.Kind {
        switch self {
        case .fetched, .fetchFailed: .fetched
        case .signatureVerified, .unverified: .sourceVerified
        case .valid, .invalidSpec, .noSpec: .specValid
        case .succeeded, .runFailed, .pipelineError, .quarantined: .trained
        case .promoted, .rejected, .nothingNew, .gateNotEvaluated: .gated
        case .deployed, .upToDate, .deployFailed: .deployed
        case .inSync, .drifted, .selfHealed, .selfHealFailed, .driftCheckFailed: .inSync
        case .rolloutComplete, .rolloutFailed: .healthy
        case .landlock, .sandboxUnavailable, .unsandboxed: .sandboxed
        case .reported, .forgeUnauthorized, .forgeForbidden, .forgeError: .reported
        case .progressing, .canary, .waitingForApproval, .superseded, .stopped: .promoting
        case .registryMoved, .registryMoveFailed: .registryInSync
        case .reconciling, .reconciled: .ready
        }
    }

    /// The status the condition has with this reason.
    public var status: Condition.Status {
        switch self {
        case .fetchFailed, .unverified, .invalidSpec, .noSpec, .runFailed, .pipelineError, .quarantined, .gateNotEvaluated, .deployFailed, .drifted,
             .selfHealFailed, .rolloutFailed, .sandboxUnavailable, .unsandboxed, .forgeUnauthorized, .forgeForbidden, .forgeError, .stopped,
             .registryMoveFailed: .false
        case .driftCheckFailed, .reconciling: .unknown
        default: .true
        }
    }

    /// What happened.
    public var meaning: String {
        switch self {
        case .fetched: "The last fetch of the repository's remote succeeded."
        case .fetchFailed: "The remote could not be fetched: unreachable, authentication refused, or the URL is wrong. The message has libgit2's error."
        case .signatureVerified: "The tip (with `mode: all`, every commit since the last verified one) is signed by a key `verify:` trusts; the message names the signer."
        case .unverified: "A commit is unsigned, signed by a key `verify:` does not trust, or its signature is bad: nothing of it runs, is promoted or deployed."
        case .valid: "The tip's `sluice.yaml` (and the policies and schemas it names) are valid."
        case .invalidSpec: "The tip's `sluice.yaml` has errors; the message lists each with file:line:col. Nothing of that commit runs."
        case .noSpec: "The production branch's tip has no `sluice.yaml`."
        case .succeeded: "The tip's last run succeeded (stages and training)."
        case .runFailed: "A stage of the tip's last run failed, timed out or was cancelled; the message names it."
        case .pipelineError: "The run could not be carried out at all (the run store, the git object database or the runner failed)."
        case .quarantined: "The controller stopped three times while running this commit (crash, OOM kill); it is not run again by itself."
        case .promoted: "The gate promoted the tip's candidate."
        case .rejected: "The gate rejected the tip's candidate; production keeps its version."
        case .nothingNew: "The run had no new candidate (no training stage ran, or its model was gated already): report-only."
        case .gateNotEvaluated: "The gate could not be evaluated (a policy, metrics file or registry problem); nothing was promoted."
        case .deployed: "The environment was deployed with the production version now."
        case .upToDate: "The environment already ran the production version."
        case .deployFailed: "Deploying the production version failed (render, apply, or push of the environment branch)."
        case .inSync: "The live objects match the production version's rendered manifests."
        case .drifted: "The live objects differ from the rendered manifests and `sync.selfHeal` is off; the message lists the differences."
        case .selfHealed: "The environment had drifted; `sync.selfHeal` applied the manifests again."
        case .selfHealFailed: "The environment had drifted and applying the manifests again did not make it healthy."
        case .driftCheckFailed: "The drift check (a dry-run render and diff) could not run; the message says why."
        case .rolloutComplete: "The last deploy's workloads became ready (Kubernetes targets)."
        case .rolloutFailed: "The last deploy's workloads did not become ready in the deploy's timeout."
        case .landlock: "Stages that must be sandboxed run in a Landlock sandbox (the message gives the ABI)."
        case .sandboxUnavailable: "The kernel offers no Landlock sandbox, so merge-request stages are refused."
        case .unsandboxed: "The kernel offers no Landlock sandbox and the configuration allows running unsandboxed."
        case .reported: "The forge accepted the last merge-request comment and commit status."
        case .forgeUnauthorized: "The forge answered 401: the token is missing, wrong or expired."
        case .forgeForbidden: "The forge answered 403: the token lacks a permission (comments, statuses) or hit a rate limit."
        case .forgeError: "The forge could not be reached or answered with another error."
        case .progressing: "A version entered the environment, passed its checks, or was approved; it moves on after its soak."
        case .canary: "A canary is running: part of the traffic goes to the new version while its analysis runs."
        case .waitingForApproval: "The version waits for an approval before it enters the environment."
        case .superseded: "A newer production version replaced this one before it got through the environment."
        case .stopped: "The version failed the environment's checks or canary analysis; production was rolled back."
        case .registryMoved: "The registry's production marker (MLflow's alias) was moved to the promotion log's version."
        case .registryMoveFailed: "Moving the registry's production marker failed; the controller retries every pass."
        case .reconciling: "A required condition (Fetched, SpecValid) has not been observed yet: the controller just started."
        case .reconciled: "Every condition that applies is true."
        }
    }

    /// What to do about it (nil when nothing needs doing).
    public var action: String? {
        switch self {
        case .fetchFailed: "Check the URL, the controller's SLUICE_GIT_TOKEN or SLUICE_GIT_SSH_KEY, and `known_hosts` for SSH; `sluice status` shows the error."
        case .unverified: "Sign the commit with a trusted key and push it (`git commit --amend -S`, or a new signed commit); or add the signer's public key to the keys `verify:` names."
        case .invalidSpec: "Run `sluice validate` in a checkout of that commit, fix the errors it locates and push."
        case .noSpec: "Commit a `sluice.yaml` (`sluice init` writes a starting one)."
        case .runFailed: "Read the stage's log (`sluice logs <run>` or the run page); push a fix or re-run it from the UI."
        case .pipelineError: "Read the controller's log for the error; check the state folder's disk space and permissions."
        case .quarantined: "Read the controller's log around the restarts; push a fix, or re-run the commit from the UI to try again."
        case .rejected: "Read the gate report (the run page or the merge request's comment): each failed rule names the metric and threshold."
        case .gateNotEvaluated: "Read the message: it names the policy file, the metric or the registry that failed."
        case .deployFailed: "Run `sluice diff` (and `sluice render`) where the controller runs, to see the render or apply error."
        case .drifted: "Someone changed the objects by hand: revert it, commit it to the manifests, or set `sync.selfHeal: true`."
        case .selfHealFailed, .rolloutFailed: "Check the workloads' events (`kubectl describe`) and the image; roll back with `sluice rollback` if needed."
        case .driftCheckFailed: "Check that the API server is reachable with the controller's credentials."
        case .sandboxUnavailable: "Run on a kernel with Landlock (Linux 5.13+, `lsm=...,landlock`), or set `merge-requests: { allow-unsandboxed: true }` knowingly."
        case .unsandboxed: "Run on a kernel with Landlock to isolate stages."
        case .forgeUnauthorized, .forgeForbidden: "Renew the forge token the repository's `forge.token-env` names, with rights to comment and set statuses."
        case .forgeError: "Check the forge's URL and status page; the controller retries on the next report."
        case .waitingForApproval: "Approve it in the UI or with `sluice approve`."
        case .stopped: "Read the environment's step log (the model page): it says which check or analysis failed."
        case .registryMoveFailed: "Check the registry (MLflow) is reachable and the controller's token may set aliases."
        case .fetched, .signatureVerified, .valid, .succeeded, .promoted, .nothingNew, .deployed, .upToDate, .inSync, .selfHealed, .rolloutComplete,
             .landlock, .reported, .progressing, .canary, .superseded, .registryMoved, .reconciling, .reconciled: nil
        }
    }
}

extension Condition.Kind {
    /// What the condition says when true (the reference page and `sluice explain`).
    public var summary: String {
        switch self {
        case .fetched: "The repository could be fetched."
        case .sourceVerified: "The commits about to run are signed by keys `verify:` trusts (only for repositories with `verify:`)."
        case .specValid: "The tip's `sluice.yaml` is valid."
        case .trained: "The tip's pipeline ran (stages, training) without failing."
        case .gated: "The tip's candidate got a verdict (false: the gate could not be evaluated)."
        case .deployed: "The environment runs the production version."
        case .inSync: "The live objects match the rendered manifests."
        case .healthy: "The deployed workloads are healthy."
        case .sandboxed: "Stages that must be sandboxed (a merge request's) can be. Informational: not part of Ready."
        case .reported: "The forge accepted the last merge-request comment and status. Informational: not part of Ready."
        case .promoting: "A version is on its way into the environment (soak, approval, canary); false when it stopped there. Informational."
        case .registryInSync: "The registry's production marker (MLflow's alias) names the promotion log's version. Set once a move was due."
        case .ready: "Every condition above that applies is true; otherwise the reason and message of the first that is not."
        }
    }
}
