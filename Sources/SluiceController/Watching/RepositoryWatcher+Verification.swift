import Logging
import SluiceCore
import SluiceRunner

/// `verify:`: a head runs only when its commits are signed by a trusted key. A refused head is
/// not tried again until its ref moves; `SourceVerified` says why on the production branch, and a
/// merge request's head gets a failing status.
extension RepositoryWatcher {
    func sourceVerified(_ update: RefTracker.Update, production: Bool) async -> Bool {
        guard let settings = repository.verify, production || repository.verifyMergeRequests else { return true }
        if verifiedHeads[update.ref] == update.head { return true }
        let (repo, service, environment) = (repository, service, environment)
        let found: Result<SourceVerification.Outcome, any Error> = await Offload.run {
            Result {
                let git = try Self.localRepository(repo, service: service)
                return try CommitVerifier(settings: settings, environment: environment).verify(from: update.base, to: update.head, in: git)
            }
        }
        let short = CommitID(update.head).short
        let metadata: Logger.Metadata = ["ref": .string(update.ref), "commit": .string(short)]
        switch found {
        case .success(.verified(let signer)):
            verifiedHeads[update.ref] = update.head
            log.info("\(short) on \(update.ref) is signed by \(signer)", metadata: metadata)
            if production { setCondition(.signatureVerified, message: "\(short) is signed by \(signer)") }
            return true
        case .success(.refused(let why)):
            invalidHeads[update.ref] = update.head  // not verified again until the ref moves
            log.error("not run: \(why)", metadata: metadata)
            if production {
                setCondition(.unverified, message: "\(why): nothing of it runs, is promoted or deployed")
            } else if let notifier = notifier(for: update.ref, log: log) {
                reported(notifier.held(commit: update.head, reason: why, awaitingApproval: false))
            }
            return false
        case .failure(let error):
            // Not decided: tried again at the next poll; nothing runs meanwhile.
            log.error("the signature of \(short) could not be checked: \(error)", metadata: metadata)
            if production { setCondition(.unverified, message: "the signature of \(short) could not be checked: \(error)") }
            return false
        }
    }

    /// Whether the production branch's tip was refused (then the environment is left as it is:
    /// its settings come from the tip's `sluice.yaml`).
    var productionUnverified: Bool { health.conditions[.sourceVerified]?.status == .false }
}
