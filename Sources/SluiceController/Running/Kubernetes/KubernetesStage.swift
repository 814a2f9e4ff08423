import FoundationEssentials
import SluiceCore
import SluiceKube
import SluiceServer
import SluiceRunner
import Synchronization

/// Runs one command stage as a Kubernetes Job (see `StageJob` for the pod's shape): applies
/// the run's Secret and the Job, follows the stage container's log into the stage log, tells
/// the pod's collector when the stage has ended, takes the outputs it sends back into the
/// workspace, and says in words why a pod did not run. Cancellation deletes the Job
/// (foreground: its pod goes first). A Job recorded by an earlier controller is re-attached to.
struct KubernetesStage: Sendable {
    struct Outcome: Sendable {
        var exitCode: Int32?
        var succeeded = false
        var cancelled = false
        var summary: String
        /// `namespace/name` of the stage's Job, once there is one.
        var job: String?
        /// The image the stage ran in, by digest (the container's `imageID`).
        var image: String?
    }

    let client: KubeClient
    /// The runs' Job watches, shared by the stages of each run.
    let kubeWatches: StageWatchRegistry
    let runner: RunnerSpec
    let namespace: String
    let options: KubernetesRunnerOptions
    let tokens: RunnerTokens
    let repository: String
    let runID: Int64
    let commit: String
    let stage: StageSpec
    /// Whether the stage belongs to a merge request (no-rights service account, no API token).
    let untrusted: Bool
    let workspace: String
    let scratch: String
    let environment: StageEnvironment
    /// Declared secrets the stage may see (names; values come from `controllerEnvironment`).
    let secrets: [String]
    let controllerEnvironment: [String: String]
    let outputLimitBytes: Int

    var exchange: PodExchange { options.exchange }

    /// - Parameters:
    ///   - attachTo: `namespace/name` of a Job an earlier controller started for this stage.
    ///   - onJob: called with `namespace/name` just before the Job is created (recorded for a restart).
    func run(attachTo: String?, say: @escaping @Sendable (String) -> Void, onLine: @escaping @Sendable (LogLine) -> Void,
             onJob: @Sendable (String) -> Void) async -> Outcome {
        let name = attachTo.map { String($0.split(separator: "/").last ?? "") }
            ?? StageJob.name(run: runID, stage: stage.name, unique: tokens.token(job: "\(repository)\n\(runID)\n\(stage.name)"))
        let ns = attachTo.flatMap { $0.split(separator: "/").count == 2 ? String($0.split(separator: "/")[0]) : nil } ?? namespace
        let pod = PodExchange.Stage(workspace: workspace, scratch: scratch)
        let inbox = pod.outputsArchive
        do {
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        } catch {
            return Outcome(summary: "cannot create \(scratch): \(error)")
        }
        // The Job an earlier controller started, if it is still there: its labels, and the token
        // its pod was given (from the run's Secret: the replica that started it may have had
        // another token key, each replica keeping its own state folder).
        let existing: (selector: String?, token: String?)?
        do {
            existing = try await Offload.run { () throws -> (selector: String?, token: String?)? in
                guard attachTo != nil, let job = try client.get(apiVersion: "batch/v1", kind: "Job", namespace: ns, name: name) else { return nil }
                let labels = (job["metadata"] as? [String: Any])?["labels"] as? [String: String] ?? [:]
                return (StageWatches.selector(labels: labels), try Self.podToken(of: job) { secret in
                    try client.get(apiVersion: "v1", kind: "Secret", namespace: ns, name: secret)
                })
            }
        } catch {
            return Outcome(summary: "\(error)")
        }
        let token = existing?.token ?? tokens.token(job: name)
        exchange.register(token: token, pod)
        defer { exchange.unregister(token: token) }

        // The run's Jobs and pods are watched by the labels its Jobs carry: ours, or those of the Job
        // an earlier controller started (an interrupted run's).
        var selector = StageWatches.selector(labels: labels) ?? StageWatches.everyStage
        do {
            // Listening before the pod asks (also when re-attaching: its collector is waiting).
            _ = try await exchange.address()
            if let existing {
                // A Job without a run's labels is still one of Sluice's: watch all of those.
                selector = existing.selector ?? StageWatches.everyStage
                say("re-attached to Job \(ns)/\(name), started by an earlier controller")
            } else {
                // Recorded first: a controller killed right after creating it re-attaches to it.
                onJob("\(ns)/\(name)")
                try await create(name: name, namespace: ns, token: token)
                say("Job \(ns)/\(name) created (image \(image ?? "?"))")
            }
        } catch {
            return Outcome(summary: "\(error)")
        }
        let watches = kubeWatches.acquire(client: client, namespace: ns, selector: selector)
        defer { kubeWatches.release(client: client, namespace: ns, selector: selector) }
        var outcome = await watch(name: name, namespace: ns, watches: watches, token: token, inbox: inbox, say: say, onLine: onLine)
        outcome.job = "\(ns)/\(name)"
        return outcome
    }

    var image: String? { stage.pod.image ?? runner.image }

    /// The labels of the stage's Job and pod. Labels and annotations are readable by anyone who
    /// may list Jobs: no credentials in a URL.
    var labels: [String: String] {
        StageJob.labels(repository: environment.masker.mask(repository), run: runID, stage: stage.name, commit: commit)
    }

    // MARK: creating

    private func create(name: String, namespace ns: String, token: String) async throws {
        guard let image else {
            throw LoadError(message: "stage '\(stage.name)' has no image to run on Kubernetes",
                            hint: "set 'image' on the stage or 'runner.image' in sluice.yaml (or SLUICE_STAGE_IMAGE for Sluice)")
        }
        let endpoint = try await exchange.address()
        let secretName = tokens.secretName(repository: repository, run: runID)
        let tokenKey = StageJob.tokenKey(stage: stage.name)
        var data = [tokenKey: Self.base64(token)]
        for secret in secrets { if let value = controllerEnvironment[secret] { data[secret] = Self.base64(value) } }
        let shownRepository = environment.masker.mask(repository)
        let secret: [String: Any] = [
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque", "data": data,
            "metadata": ["name": secretName, "namespace": ns,
                         "labels": labels.filter { $0.key != "sluice.dev/stage" }],
        ]
        // One field manager per stage: stages of a run add their keys without removing each other's.
        let object = SendableJSON(secret)
        let uid = try await Offload.run { () throws -> String? in
            let applied = try client.apply(object.value, manager: "sluice-\(tokenKey)")
            return (applied["metadata"] as? [String: Any])?["uid"] as? String
        }

        var variables = environment.variables.filter { kv in
            !StageEnvironment.inherited.contains(kv.key) && !kv.key.hasPrefix("LC_") && !stage.secrets.contains(kv.key)
        }
        variables["SLUICE_WORKSPACE"] = StageJob.workspacePath
        var job = StageJob(name: name, namespace: ns, labels: labels, stage: stage, image: image, sluiceImage: options.sluiceImage,
                           endpoint: endpoint, secretName: secretName, tokenKey: tokenKey, variables: variables,
                           ttlSecondsAfterFinished: runner.ttlSecondsAfterFinished)
        job.annotations = ["sluice.dev/repository": shownRepository]
        job.secretVariables = secrets.filter { controllerEnvironment[$0] != nil }
        job.serviceAccount = untrusted ? options.untrustedServiceAccount : runner.serviceAccount
        job.automountToken = !untrusted && runner.serviceAccount != nil
        job.imagePullSecrets = runner.imagePullSecrets
        if let uid { job.owner = StageJob.Owner(name: secretName, uid: uid) }
        let jobObject = SendableJSON(job.object())
        try await Offload.run { _ = try client.apply(jobObject.value) }
    }

    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    // MARK: watching

    private func watch(name: String, namespace ns: String, watches: StageWatches, token: String, inbox: String,
                       say: @escaping @Sendable (String) -> Void, onLine: @escaping @Sendable (LogLine) -> Void) async -> Outcome {
        let started = ContinuousClock.now
        let wake = Wakeup()
        var follower: Task<Void, Never>?
        var lastWaiting: String?
        var lastProblem: String?
        var notified = false
        var progress = JobProgress()
        // The Job and its pod, kept current by the run's watches, which wake this loop when they
        // change; the loop itself asks the server nothing while it waits.
        var seen = false
        watches.wait(for: name, wake)
        defer {
            follower?.cancel()
            watches.stopWaiting(for: name)
        }

        while true {
            if Task.isCancelled {
                await delete(name, ns, say: say)
                return Outcome(cancelled: true, summary: "cancelled; the Job and its pod were deleted")
            }
            let look = watches.look(at: name)
            if let problem = look.problem, problem != lastProblem {
                // The API server may be briefly unreachable; the pod runs on regardless.
                say("cannot watch Job \(ns)/\(name): \(problem); trying again")
            }
            lastProblem = look.problem
            if look.synced {
                // Not there yet: the watch has not brought the Job just created. Gone after being seen: deleted.
                if let job = look.job {
                    seen = true
                    progress = JobProgress.read(job: job, pods: look.pods, stageContainer: StageJob.stageContainer)
                    if progress.finished != nil {
                        // The Job has ended. Its pods come on a stream of their own, which may not yet
                        // have brought what happened just before (an eviction): read them once more.
                        do {
                            let pods = try await Offload.run {
                                SendableJSON(["items": try client.list(apiVersion: "v1", kind: "Pod", namespace: ns, labelSelector: "job-name=\(name)").items])
                            }
                            progress = JobProgress.read(job: job, pods: pods.value["items"] as? [[String: Any]] ?? [], stageContainer: StageJob.stageContainer)
                        } catch {
                            say("cannot read the pods of Job \(ns)/\(name) once more (\(error)); going by what the watch saw")
                        }
                    }
                } else if seen {
                    return Outcome(summary: "Job \(ns)/\(name) was deleted before the stage ended (by someone else, or its TTL)")
                }
            }

            if let waiting = progress.waiting, waiting != lastWaiting {
                say("waiting: \(waiting)")
                lastWaiting = waiting
            }
            if let failed = progress.initFailed {
                let tail = await lastLines(pod: progress.pod, container: failed.container, namespace: ns)
                await delete(name, ns, say: say)
                return Outcome(exitCode: failed.exitCode, summary: "the pod could not set up the workspace (container \(failed.container) exited with code \(failed.exitCode))"
                               + (tail.isEmpty ? "" : ": " + tail))
            }
            let stageStarted: Bool
            switch progress.stage {
            case .waiting: stageStarted = false
            case .running, .terminated: stageStarted = true
            }
            if stageStarted, follower == nil, let pod = progress.pod {
                let log = PodLogFollower(client: client, namespace: ns, pod: pod, container: StageJob.stageContainer,
                                         masker: environment.masker, limitBytes: outputLimitBytes, onLine: onLine)
                follower = Task { await Offload.run { log.run() }; wake.set() }
            }
            if case .terminated(let code, _, _) = progress.stage, !notified {
                exchange.stageEnded(token: token, collect: code == 0 ? stage.outputs + stage.reportFiles : [])
                notified = true
            }
            // An evicted pod also fails its Job; say why the pod went (a deadline is the Job's to tell).
            if let failure = progress.podFailure, !failure.hasPrefix("DeadlineExceeded") {
                await delete(name, ns, say: say)
                return Outcome(summary: "the pod failed: \(failure)")
            }
            if let finished = progress.finished {
                await follower?.value
                var outcome = settle(finished, progress: progress, token: token, inbox: inbox)
                outcome.image = progress.stageImage
                return outcome
            }
            if !stageStarted, started.duration(to: .now) > .seconds(runner.pendingTimeoutSeconds) {
                await delete(name, ns, say: say)
                return Outcome(summary: "the pod did not start within \(DurationText.format(seconds: runner.pendingTimeoutSeconds)): "
                               + (progress.waiting ?? "it stayed pending") + "; the Job was deleted")
            }
            // Woken by a change; otherwise once a second, for the pending deadline.
            await wake.sleep(seconds: 1)
        }
    }

    /// The stage's result from the Job's final condition and the stage container's end.
    private func settle(_ finished: JobProgress.Finished, progress: JobProgress, token: String, inbox: String) -> Outcome {
        var exitCode: Int32?
        var reason: String?
        if case .terminated(let code, let r, _) = progress.stage { exitCode = code; reason = r }
        if finished.reason == "DeadlineExceeded" {
            return Outcome(exitCode: exitCode, summary: "timed out after \(stage.timeoutSeconds.map { DurationText.format(seconds: $0) } ?? "its deadline"); the Job was stopped (DeadlineExceeded)")
        }
        if reason == "OOMKilled" {
            let limit = stage.pod.limits.first { $0.key == "memory" }?.value
            return Outcome(exitCode: exitCode, summary: "ran out of memory: the container was killed at its memory limit\(limit.map { " of \($0)" } ?? "") (OOMKilled, exit code \(exitCode ?? 137))"
                           + (limit == nil ? "" : "; raise resources.memory"))
        }
        guard let code = exitCode else {
            return Outcome(summary: "the Job ended (\(finished.reason ?? "?"): \(finished.message ?? "")) without the stage container running")
        }
        guard code == 0 else { return Outcome(exitCode: code, summary: "exited with code \(code)") }
        guard finished.succeeded else {
            return Outcome(exitCode: code, summary: "the stage exited with code 0 but its outputs were not collected (\(finished.reason ?? "Failed"): \(finished.message ?? ""))")
        }
        let wanted = stage.outputs + stage.reportFiles
        guard !wanted.isEmpty else { return Outcome(exitCode: 0, succeeded: true, summary: "exited with code 0") }
        guard exchange.hasReceived(token: token) else {
            return Outcome(exitCode: 0, summary: "the stage exited with code 0 but the pod sent no outputs back")
        }
        do {
            try PodOutputs.unpack(inbox, paths: wanted, into: workspace, scratch: scratch)
        } catch {
            return Outcome(exitCode: 0, summary: "the outputs the pod sent back could not be unpacked: \(error)")
        }
        return Outcome(exitCode: 0, succeeded: true, summary: "exited with code 0")
    }

    private func delete(_ name: String, _ ns: String, say: @Sendable (String) -> Void) async {
        do {
            try await Offload.run { try client.delete(apiVersion: "batch/v1", kind: "Job", namespace: ns, name: name, propagation: "Foreground") }
        } catch {
            say("could not delete Job \(ns)/\(name): \(error); delete it with kubectl delete job -n \(ns) \(name)")
        }
    }

    /// The last lines of a container's log, for a failure message.
    private func lastLines(pod: String?, container: String, namespace ns: String) async -> String {
        guard let pod else { return "" }
        let lines = Mutex<[String]>([])
        let log = PodLogFollower(client: client, namespace: ns, pod: pod, container: container, masker: environment.masker,
                                 limitBytes: 1 << 20, onLine: { line in lines.withLock { $0.append(line.text) } })
        await Offload.run { log.run() }
        return lines.withLock { $0.suffix(3).joined(separator: " / ") }
    }
}

/// What wakes the watch loop: a change the watches saw, or the log follower's stream ending (the
/// container has most likely ended), so the loop looks at once instead of at its next tick.
final class Wakeup: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    func set() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            defer { s.waiter = nil }
            if s.waiter == nil { s.pending = true }
            return s.waiter
        }
        waiter?.resume()
    }

    /// Returns after `set()` (at once if it was called since the last return), after `seconds`,
    /// or when the task is cancelled.
    func sleep(seconds: Double) async {
        let timer = Task {
            do { try await Task.sleep(for: .seconds(seconds)) } catch { return }  // cancelled: woken already
            set()
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.pending { return true }
                    s.waiter = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: { set() }
        timer.cancel()
        // A change after this line is seen by the caller's next look or wakes the next sleep.
        state.withLock { $0.pending = false }
    }
}
