/// The controller's configuration file (`sluice watch --config sluice-controller.yaml`):
/// which repositories to watch and how the server listens. Built by
/// `ControllerConfigDecoder`; a file with any error is refused whole.
public struct ControllerConfig: Hashable, Sendable {
    public struct Repository: Hashable, Sendable {
        public var name: String
        /// A URL (or a local path, for trying things out).
        public var url: String
        /// The production branch (default: the remote's default branch).
        public var branch: String?
        public var mergeRequests: Bool = true
        /// Whether merge-request pipelines see the secrets their stages declare (default: no).
        public var mergeRequestSecrets = false
        /// When a merge request from a fork runs (default: once someone approves its head commit).
        public var forks = ForkPolicy.approval
        /// Run merge-request stages unsandboxed where the kernel cannot sandbox them (default: refuse).
        public var allowUnsandboxed = false
        /// Sandbox the production branch's stages too (`sandbox: all`), not only merge requests'.
        public var sandboxAllStages = false
        public var intervalSeconds: Int
        /// Environment variable holding the webhook secret (GitHub/Gitea HMAC key, GitLab token).
        public var webhookSecretEnv: String?
        /// Where merge-request reports go (nil: inferred from a github.com or gitlab.com URL).
        public var forge: Forge?
        /// Only signed commits run (`verify:`); nil: every commit runs.
        public var verify: SourceVerification?
        /// Whether merge-request heads are verified too (`merge-requests: { verify: ... }`; default: yes, when `verify` is set).
        public var verifyMergeRequests = true
        public var location: SourceLocation

        /// The configured forge, else the one a github.com / gitlab.com URL names.
        public var effectiveForge: Forge? { forge ?? Forge.inferred(from: url) }
    }

    /// Whether a merge request whose head is in a fork runs: `never`, after someone with the API
    /// token approves its head commit (`approval`), or at once (`always`). A forge that does not
    /// say whether the head is a fork is taken to mean one.
    public enum ForkPolicy: String, Hashable, Sendable, CaseIterable {
        case never, approval, always
    }

    /// A repository's forge, for merge-request comments and commit statuses.
    public struct Forge: Hashable, Sendable {
        public var kind: ForgeKind
        /// `owner/name` (GitHub, Gitea), or a GitLab project path or id.
        public var project: String
        /// The API base (nil: GitHub's or GitLab's public API).
        public var api: String?
        /// The environment variable holding the forge token.
        public var tokenEnv: String = "SLUICE_FORGE_TOKEN"

        public init(kind: ForgeKind, project: String, api: String? = nil, tokenEnv: String = "SLUICE_FORGE_TOKEN") {
            self.kind = kind
            self.project = project
            self.api = api
            self.tokenEnv = tokenEnv
        }

        /// `https://github.com/acme/iris.git`, `git@gitlab.com:acme/ml/iris.git` -> the forge and project.
        public static func inferred(from url: String) -> Forge? {
            var rest = Substring(url)
            if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
            if let at = rest.firstIndex(of: "@"), rest[..<at].firstIndex(of: "/") == nil { rest = rest[rest.index(after: at)...] }
            guard let split = rest.firstIndex(where: { $0 == "/" || $0 == ":" }) else { return nil }
            let host = rest[..<split].lowercased()
            var path = String(rest[rest.index(after: split)...])
            while path.hasPrefix("/") { path.removeFirst() }
            while path.hasSuffix("/") { path.removeLast() }
            if path.hasSuffix(".git") { path.removeLast(4) }
            guard path.contains("/") else { return nil }
            switch host {
            case "github.com", "github.com:443": return Forge(kind: .github, project: path)
            case "gitlab.com", "gitlab.com:443": return Forge(kind: .gitlab, project: path)
            default: return nil
            }
        }

        /// The settings as the forge adapter reads them (`SLUICE_FORGE*`), over `environment`.
        public func environment(over environment: [String: String]) -> [String: String] {
            var env = environment
            env["SLUICE_FORGE"] = kind.rawValue
            env["SLUICE_FORGE_PROJECT"] = project
            env["SLUICE_FORGE_API"] = api
            env["SLUICE_FORGE_TOKEN"] = environment[tokenEnv]
            return env
        }
    }

    public var file: String
    public var stateDirectory: String?
    public var intervalSeconds: Int = 60
    public var listen: String = "127.0.0.1:8080"
    /// Environment variable holding the bearer token that actions (re-run, promote, rollback) need.
    public var tokenEnv: String?
    public var tokenLocation: SourceLocation?
    /// Merge-request pipelines running at once, per repository.
    public var mergeRequestParallelism: Int = 2
    /// Fetches in progress at once, across all repositories.
    public var fetchParallelism: Int = 8
    /// Pipelines running at once, across all repositories (production and merge requests);
    /// nil: twice the machine's cores, at least 4.
    public var runParallelism: Int?
    /// Webhook deliveries accepted per second; more are answered 429. (Each repository folds
    /// wake-ups into one pending reconcile, so the work queued behind them stays bounded.)
    public var queueLimit: Int = 100
    public var repositories: [Repository] = []
    /// Leader election between replicas (nil: a single replica).
    public var lease: Lease?

    /// The Kubernetes Lease that elects the replica that reconciles.
    public struct Lease: Sendable, Equatable {
        public var namespace: String
        public var name: String
        /// How long a leader holds it without renewing (`leaseDurationSeconds`); it renews every third of that.
        public var durationSeconds = 15

        public init(namespace: String, name: String, durationSeconds: Int = 15) {
            self.namespace = namespace
            self.name = name
            self.durationSeconds = durationSeconds
        }
    }
    /// Where events go (`notifications:`); empty: nowhere.
    public var notifications = NotificationSettings()
    /// The bucket behind the artifact store (`artifacts: { s3: … }`); nil: `SLUICE_ARTIFACTS_URL`, if set.
    public var artifacts: ArtifactBucket?
    public var artifactsLocation: SourceLocation?
    /// The variable holding the run store's PostgreSQL URL (`store: { url-env: … }`); nil:
    /// `SLUICE_DATABASE_URL`, if set, else the state folder's SQLite file.
    public var storeURLEnv: String?
    public var storeLocation: SourceLocation?

    public init(file: String) { self.file = file }

    public static func == (a: ControllerConfig, b: ControllerConfig) -> Bool {
        a.file == b.file && a.repositories == b.repositories && a.listen == b.listen && a.lease == b.lease
            && a.notifications == b.notifications && a.artifacts == b.artifacts && a.storeURLEnv == b.storeURLEnv
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(file) }
}

public enum ControllerConfigDecoder {
    public static let topLevelKeys = ["state", "interval", "listen", "token-env", "merge-request-parallelism", "fetch-parallelism", "run-parallelism", "queue-limit", "repositories", "lease", "notifications", "artifacts", "store"]
    public static let repositoryKeys = ["name", "url", "branch", "merge-requests", "merge-request-secrets", "interval", "webhook-secret-env", "forge", "sandbox", "verify"]
    public static let mergeRequestKeys = ["forks", "secrets", "allow-unsandboxed", "verify"]
    public static let verifyKeys = ["mode", "gpg-keys", "ssh-allowed-signers"]
    public static let forgeKeys = ["kind", "project", "api", "token-env"]
    public static let leaseKeys = ["namespace", "name", "duration"]

    public static func decode(_ root: Node?, file: String) -> (config: ControllerConfig?, diagnostics: [Diagnostic]) {
        var reader = NodeReader()
        var config = ControllerConfig(file: file)
        guard let root else {
            return (nil, [.error(at: SourceLocation(file: file, line: 1, column: 1), "the configuration is empty", hint: "list 'repositories:' to watch")])
        }
        guard let fields = reader.mapping(root, what: "the controller configuration", allowed: topLevelKeys) else { return (nil, reader.diagnostics) }
        var sawRepositories = false
        for (key, _, value) in fields {
            switch key {
            case "state": config.stateDirectory = reader.nonEmptyString(value, what: "'state'")
            case "interval": if let s = duration(value, "'interval'", &reader) { config.intervalSeconds = s }
            case "listen":
                guard let text = reader.nonEmptyString(value, what: "'listen'") else { continue }
                if let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) {
                    config.listen = text
                } else {
                    reader.error(value, "'listen' must be host:port, found '\(text)'", hint: "e.g. 0.0.0.0:8080")
                }
            case "token-env":
                config.tokenEnv = reader.nonEmptyString(value, what: "'token-env'")
                config.tokenLocation = value.location
            case "merge-request-parallelism", "fetch-parallelism", "run-parallelism", "queue-limit":
                guard let n = reader.int(value, what: "'\(key)'") else { continue }
                if n < 1 { reader.error(value, "'\(key)' must be at least 1"); continue }
                switch key {
                case "queue-limit": config.queueLimit = n
                case "fetch-parallelism": config.fetchParallelism = n
                case "run-parallelism": config.runParallelism = n
                default: config.mergeRequestParallelism = n
                }
            case "lease":
                guard let l = reader.mapping(value, what: "'lease'", allowed: leaseKeys) else { continue }
                let f = Dictionary(l.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                guard let ns = f["namespace"].flatMap({ reader.nonEmptyString($0, what: "'lease.namespace'") }),
                      let name = f["name"].flatMap({ reader.nonEmptyString($0, what: "'lease.name'") }) else {
                    reader.error(value, "'lease' needs 'namespace' and 'name'", hint: "e.g. { namespace: sluice-system, name: sluice-leader }")
                    continue
                }
                var lease = ControllerConfig.Lease(namespace: ns, name: name)
                if let d = f["duration"], let seconds = duration(d, "'lease.duration'", &reader) {
                    if seconds < 3 {
                        reader.error(d, "'lease.duration' must be at least 3s", hint: "the leader renews every third of it; 15s is client-go's default")
                    } else {
                        lease.durationSeconds = seconds
                    }
                }
                config.lease = lease
            case "notifications":
                if let settings = NotificationSettingsDecoder.decode(value, &reader) { config.notifications = settings }
            case "artifacts":
                config.artifacts = decodeArtifacts(value, &reader)
                config.artifactsLocation = value.location
            case "store":
                config.storeURLEnv = decodeStore(value, &reader)
                config.storeLocation = value.location
            case "repositories":
                sawRepositories = true
                guard let items = value.sequence else {
                    reader.error(value, "'repositories' must be a list, found \(value.kindName)", hint: "start each with '- name: ...'")
                    continue
                }
                var names: [String: SourceLocation] = [:]
                for item in items {
                    guard let repo = decodeRepository(item, defaultInterval: config.intervalSeconds, &reader) else { continue }
                    if let first = names[repo.name] {
                        reader.error(item, "repository name '\(repo.name)' is used twice", hint: "first at \(first.line):\(first.column)")
                    }
                    names[repo.name] = repo.location
                    config.repositories.append(repo)
                }
            default: break
            }
        }
        if !sawRepositories { reader.error(root, "the configuration lists no 'repositories'") }
        return (reader.diagnostics.hasErrors ? nil : config, reader.diagnostics)
    }

    private static func decodeRepository(_ node: Node, defaultInterval: Int, _ reader: inout NodeReader) -> ControllerConfig.Repository? {
        guard let fields = reader.mapping(node, what: "a repository", allowed: repositoryKeys) else { return nil }
        let f = Fields(fields)
        guard let nameNode = f["name"], let name = reader.nonEmptyString(nameNode, what: "'name'") else {
            if f["name"] == nil { reader.error(node, "a repository needs a 'name'") }
            return nil
        }
        guard let urlNode = f["url"], let url = reader.nonEmptyString(urlNode, what: "'url' of '\(name)'") else {
            if f["url"] == nil { reader.error(node, "repository '\(name)' needs a 'url'") }
            return nil
        }
        var repo = ControllerConfig.Repository(name: name, url: url, intervalSeconds: defaultInterval, location: nameNode.location)
        if let b = f["branch"] { repo.branch = reader.nonEmptyString(b, what: "'branch' of '\(name)'") }
        if let m = f["merge-requests"] { decodeMergeRequests(m, into: &repo, &reader) }
        if let m = f["merge-request-secrets"], let v = reader.bool(m, what: "'merge-request-secrets' of '\(name)'") { repo.mergeRequestSecrets = v }
        if let i = f["interval"], let s = duration(i, "'interval' of '\(name)'", &reader) { repo.intervalSeconds = s }
        if let w = f["webhook-secret-env"] { repo.webhookSecretEnv = reader.nonEmptyString(w, what: "'webhook-secret-env' of '\(name)'") }
        if let forge = f["forge"] { repo.forge = decodeForge(forge, repository: name, &reader) }
        if let verify = f["verify"] { repo.verify = decodeVerify(verify, repository: name, &reader) }
        if let node = f["sandbox"], let text = reader.string(node, what: "'sandbox' of '\(name)'") {
            switch text {
            case "merge-requests": repo.sandboxAllStages = false
            case "all": repo.sandboxAllStages = true
            default: reader.error(node, "'sandbox' of '\(name)' must be merge-requests or all, found '\(text)'",
                                  hint: "all: the production branch's stages are sandboxed too")
            }
        }
        return repo
    }

    /// `merge-requests: true | false`, or `{ forks: never | approval | always, secrets: bool, allow-unsandboxed: bool }`.
    private static func decodeMergeRequests(_ node: Node, into repo: inout ControllerConfig.Repository, _ reader: inout NodeReader) {
        let name = repo.name
        if node.mapping == nil {
            if let v = reader.bool(node, what: "'merge-requests' of '\(name)'") { repo.mergeRequests = v }
            return
        }
        guard let fields = reader.mapping(node, what: "'merge-requests' of '\(name)'", allowed: mergeRequestKeys) else { return }
        repo.mergeRequests = true
        for (key, _, value) in fields {
            switch key {
            case "forks":
                guard let text = reader.string(value, what: "'merge-requests.forks' of '\(name)'") else { continue }
                guard let policy = ControllerConfig.ForkPolicy(rawValue: text) else {
                    reader.error(value, "'merge-requests.forks' of '\(name)' must be never, approval or always, found '\(text)'",
                                 hint: Suggestion.hint(for: text, in: ControllerConfig.ForkPolicy.allCases.map(\.rawValue)) ?? "approval: a fork's merge request runs once approved")
                    continue
                }
                repo.forks = policy
            case "secrets":
                if let v = reader.bool(value, what: "'merge-requests.secrets' of '\(name)'") { repo.mergeRequestSecrets = v }
            case "allow-unsandboxed":
                if let v = reader.bool(value, what: "'merge-requests.allow-unsandboxed' of '\(name)'") { repo.allowUnsandboxed = v }
            case "verify":
                if let v = reader.bool(value, what: "'merge-requests.verify' of '\(name)'") { repo.verifyMergeRequests = v }
            default: break
            }
        }
    }

    private static func decodeForge(_ node: Node, repository name: String, _ reader: inout NodeReader) -> ControllerConfig.Forge? {
        guard let fields = reader.mapping(node, what: "'forge' of '\(name)'", allowed: forgeKeys) else { return nil }
        let f = Fields(fields)
        guard let kindNode = f["kind"], let projectNode = f["project"] else {
            reader.error(node, "'forge' of '\(name)' needs 'kind' (github, gitlab or gitea) and 'project'",
                         hint: "e.g. { kind: github, project: acme/iris }")
            return nil
        }
        guard let text = reader.nonEmptyString(kindNode, what: "'forge.kind' of '\(name)'"),
              let project = reader.nonEmptyString(projectNode, what: "'forge.project' of '\(name)'") else { return nil }
        guard let kind = ForgeKind(rawValue: text) else {
            reader.error(kindNode, "unknown forge '\(text)'",
                         hint: Suggestion.hint(for: text, in: ForgeKind.allCases.map(\.rawValue)) ?? "use \(ForgeKind.spelled)")
            return nil
        }
        var forge = ControllerConfig.Forge(kind: kind, project: project)
        if let api = f["api"] { forge.api = reader.nonEmptyString(api, what: "'forge.api' of '\(name)'") }
        if let t = f["token-env"], let env = reader.nonEmptyString(t, what: "'forge.token-env' of '\(name)'") { forge.tokenEnv = env }
        if kind == .gitea && forge.api == nil {
            reader.error(node, "'forge' of '\(name)': Gitea needs 'api'", hint: "e.g. api: https://gitea.example.com/api/v1")
        }
        return forge
    }

    /// `verify: { mode: head | all, gpg-keys: PATH, ssh-allowed-signers: PATH }`.
    private static func decodeVerify(_ node: Node, repository name: String, _ reader: inout NodeReader) -> SourceVerification? {
        guard let fields = reader.mapping(node, what: "'verify' of '\(name)'", allowed: verifyKeys) else { return nil }
        let f = Fields(fields)
        var verify = SourceVerification()
        if let m = f["mode"], let text = reader.string(m, what: "'verify.mode' of '\(name)'") {
            if let mode = SourceVerification.Mode(rawValue: text) { verify.mode = mode } else {
                reader.error(m, "'verify.mode' of '\(name)' must be head or all, found '\(text)'",
                             hint: Suggestion.hint(for: text, in: SourceVerification.Mode.allCases.map(\.rawValue)) ?? "head: the tip; all: every new commit")
            }
        }
        if let k = f["gpg-keys"] { verify.gpgKeys = reader.nonEmptyString(k, what: "'verify.gpg-keys' of '\(name)'") }
        if let s = f["ssh-allowed-signers"] { verify.sshAllowedSigners = reader.nonEmptyString(s, what: "'verify.ssh-allowed-signers' of '\(name)'") }
        if f["gpg-keys"] == nil, f["ssh-allowed-signers"] == nil {
            reader.error(node, "'verify' of '\(name)' needs 'gpg-keys' (public keys: a file or a folder) or 'ssh-allowed-signers' (a file)",
                         hint: "the keys whose signatures are trusted; nothing else is")
        }
        return verify
    }

    private static func duration(_ node: Node, _ what: String, _ reader: inout NodeReader) -> Int? {
        guard let text = reader.string(node, what: what) else { return nil }
        guard let s = DurationText.seconds(text), s > 0 else {
            reader.error(node, "\(what): '\(text)' is not a duration", hint: "e.g. 60s, 5m")
            return nil
        }
        return s
    }
}
