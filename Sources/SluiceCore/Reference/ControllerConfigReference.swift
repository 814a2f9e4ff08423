/// Every key of the controller's configuration (`sluice-controller.yaml`, the ConfigMap in
/// `manifests/20-config.yaml`), for the generated reference page. A test checks the paths equal
/// the keys `ControllerConfigDecoder` accepts, so a key cannot be added without its entry.
public enum ControllerConfigReference {
    public struct Entry: Sendable {
        public var path: String
        public var type: String
        public var defaultValue: String?
        public var description: String
    }

    public static let entries: [Entry] = [
        Entry(path: "state", type: "path", defaultValue: "--state, else $SLUICE_STATE, else ~/.sluice",
              description: "The state folder: the run store (`sluice.sqlite`), the artifact store and the git mirrors."),
        Entry(path: "interval", type: "duration", defaultValue: "60s", description: "How often each repository is polled (jittered ±10%); a verified webhook polls at once."),
        Entry(path: "listen", type: "host:port", defaultValue: "0.0.0.0:8080", description: "Where the web UI, the API, `/metrics`, `/healthz`, `/readyz` and the webhooks are served."),
        Entry(path: "token-env", type: "environment variable name", defaultValue: nil,
              description: "The variable holding the bearer token for actions (promote, rollback, approve, re-run); without it the server is read-only."),
        Entry(path: "merge-request-parallelism", type: "integer ≥ 1", defaultValue: "2", description: "Merge-request heads run at once, per repository."),
        Entry(path: "fetch-parallelism", type: "integer ≥ 1", defaultValue: "8", description: "Fetches at once, across all repositories."),
        Entry(path: "run-parallelism", type: "integer ≥ 1", defaultValue: "2 × cores, at least 4", description: "Pipelines at once, across all repositories."),
        Entry(path: "queue-limit", type: "integer ≥ 1", defaultValue: "100", description: "Webhook deliveries per second before the server answers 429."),
        Entry(path: "lease", type: "mapping", defaultValue: nil,
              description: "With several replicas: the Kubernetes Lease that elects the one replica that reconciles; the others serve the UI read-only."),
        Entry(path: "lease.namespace", type: "string", defaultValue: nil, description: "The Lease's namespace."),
        Entry(path: "lease.name", type: "string", defaultValue: nil, description: "The Lease's name."),
        Entry(path: "lease.duration", type: "duration ≥ 3s", defaultValue: "15s",
              description: "How long a leader holds the Lease without renewing it (it renews every third of it): a follower takes over this long after the leader died."),
        Entry(path: "repositories", type: "list of repositories", defaultValue: nil, description: "The repositories to watch (at least one)."),
        Entry(path: "repositories.name", type: "string", defaultValue: nil, description: "The repository's name in the UI, the API, the metrics and its webhook URL (`/webhooks/<name>`); unique."),
        Entry(path: "repositories.url", type: "URL or path", defaultValue: nil,
              description: "The git remote: https://, ssh://, git://, or a local path. Credentials come from SLUICE_GIT_TOKEN or SLUICE_GIT_SSH_KEY."),
        Entry(path: "repositories.branch", type: "string", defaultValue: "the remote's default branch", description: "The production branch."),
        Entry(path: "repositories.merge-requests", type: "boolean or mapping", defaultValue: "false",
              description: "Run merge-request heads (sandboxed, with no credentials) and report on them; a mapping sets how."),
        Entry(path: "repositories.merge-requests.forks", type: "one of: never, approval, always", defaultValue: "approval",
              description: "Whether merge requests from forks run: never, after an approval of their head, or always."),
        Entry(path: "repositories.merge-requests.secrets", type: "boolean", defaultValue: "false", description: "Give merge-request stages the secrets their stages declare."),
        Entry(path: "repositories.merge-requests.allow-unsandboxed", type: "boolean", defaultValue: "false",
              description: "Where the kernel cannot sandbox: run merge-request stages anyway (default: refuse them)."),
        Entry(path: "repositories.merge-requests.verify", type: "boolean", defaultValue: "true when `verify` is set",
              description: "Verify merge-request heads' signatures too (`mode: head`); an unverified head gets a failing status and does not run."),
        Entry(path: "repositories.merge-request-secrets", type: "boolean", defaultValue: "false", description: "Older spelling of `merge-requests.secrets`."),
        Entry(path: "repositories.interval", type: "duration", defaultValue: "the top-level interval", description: "This repository's poll interval."),
        Entry(path: "repositories.webhook-secret-env", type: "environment variable name", defaultValue: nil,
              description: "The variable holding the webhook secret (GitHub and Gitea signatures, GitLab's token); unsigned deliveries get 401."),
        Entry(path: "repositories.forge", type: "mapping", defaultValue: "inferred from github.com and gitlab.com URLs",
              description: "Where merge-request reports (comment, commit status) go."),
        Entry(path: "repositories.forge.kind", type: "one of: " + ForgeKind.allCases.map(\.rawValue).joined(separator: ", "), defaultValue: nil,
              description: "The forge's API."),
        Entry(path: "repositories.forge.project", type: "string", defaultValue: nil, description: "owner/name (GitHub, Gitea) or the project path (GitLab)."),
        Entry(path: "repositories.forge.api", type: "URL", defaultValue: "the public API of github.com or gitlab.com", description: "The API base URL of a self-hosted forge."),
        Entry(path: "repositories.forge.token-env", type: "environment variable name", defaultValue: "SLUICE_FORGE_TOKEN", description: "The variable holding this repository's forge token."),
        Entry(path: "repositories.sandbox", type: "one of: merge-requests, all", defaultValue: "merge-requests",
              description: "all: sandbox the production branch's stages too."),
        Entry(path: "repositories.verify", type: "mapping", defaultValue: nil,
              description: "Run only commits signed by trusted keys: an unsigned commit, or one signed by another key, runs nothing and is not promoted or deployed (`SourceVerified=False`, `source.unverified`)."),
        Entry(path: "repositories.verify.mode", type: "one of: head, all", defaultValue: "head",
              description: "head: the production branch's tip; all: every commit since the last verified one (a signed merge over unsigned commits is refused)."),
        Entry(path: "repositories.verify.gpg-keys", type: "path", defaultValue: nil,
              description: "OpenPGP public keys (armoured or binary), a file or a folder of them (a mounted Secret); checked with `gpgv` against these keys only."),
        Entry(path: "repositories.verify.ssh-allowed-signers", type: "path", defaultValue: nil,
              description: "An SSH allowed-signers file (as git's `gpg.ssh.allowedSignersFile`); checked with `ssh-keygen -Y verify`, namespace `git`."),
        Entry(path: "notifications", type: "mapping", defaultValue: nil,
              description: "Where events go ([events](events.md)): providers (Slack, Teams, Google Chat, a signed webhook, CloudEvents) and routes. Delivered from an outbox in the run store, retried, never twice."),
        Entry(path: "notifications.url", type: "URL", defaultValue: "where the server listens",
              description: "The web UI's address as people open it: the links in messages (run, model and repository pages)."),
        Entry(path: "notifications.retry-for", type: "duration", defaultValue: "6h",
              description: "How long a delivery is retried (exponential backoff from 2 s to 10 min; `Retry-After` of a 429 or 503 honoured) before it is recorded as failed."),
        Entry(path: "notifications.rate-limit", type: "duration", defaultValue: "5m",
              description: "An event identical to one sent to the same provider within this window (kind, place and words) is collapsed, not sent."),
        Entry(path: "notifications.providers", type: "list of providers", defaultValue: nil, description: "The receivers, each with a unique name."),
        Entry(path: "notifications.providers.name", type: "string", defaultValue: nil, description: "The name routes use."),
        Entry(path: "notifications.providers.type", type: "one of: " + NotificationSettings.ProviderKind.allCases.map(\.rawValue).joined(separator: ", "),
              defaultValue: nil,
              description: "slack: an incoming webhook (Block Kit); msteams: a Workflows webhook (Adaptive Card); googlechat: a space webhook (cardsV2); webhook: the event as JSON, signed; cloudevents: CloudEvents 1.0 over HTTP."),
        Entry(path: "notifications.providers.url-env", type: "environment variable name", defaultValue: nil,
              description: "The variable holding the receiver's URL (a credential: it is never logged or stored)."),
        Entry(path: "notifications.providers.url-file", type: "path", defaultValue: nil, description: "Or a file holding it (a mounted Secret)."),
        Entry(path: "notifications.providers.secret-env", type: "environment variable name", defaultValue: nil,
              description: "webhook: the variable holding the HMAC key of `X-Sluice-Signature-256: sha256=<HMAC-SHA256 of the body>` (required)."),
        Entry(path: "notifications.providers.secret-file", type: "path", defaultValue: nil, description: "Or a file holding it."),
        Entry(path: "notifications.providers.mode", type: "one of: binary, structured", defaultValue: "binary",
              description: "cloudevents: attributes as `ce-` headers (binary) or one `application/cloudevents+json` document (structured)."),
        Entry(path: "notifications.routes", type: "list of routes", defaultValue: nil,
              description: "Which events go where; an event goes to every provider of every route it matches, once each."),
        Entry(path: "notifications.routes.providers", type: "list of provider names", defaultValue: nil, description: "Where the route's events go."),
        Entry(path: "notifications.routes.events", type: "list of event types, or \"*\"", defaultValue: "\"*\"", description: "The event types it takes."),
        Entry(path: "notifications.routes.severity", type: "one of: info, warning, error", defaultValue: "info", description: "The lowest severity it takes."),
        Entry(path: "notifications.routes.repositories", type: "list of globs", defaultValue: "all", description: "Repository names (`iris*`)."),
        Entry(path: "notifications.routes.models", type: "list of globs", defaultValue: "all", description: "Model names; an event without a model does not match a route that names models."),
        Entry(path: "notifications.routes.environments", type: "list of globs", defaultValue: "all",
              description: "Environment names; an event without an environment does not match a route that names environments."),
        Entry(path: "artifacts", type: "mapping", defaultValue: "SLUICE_ARTIFACTS_URL's bucket, else none",
              description: "Where stage outputs and model files are kept beyond the state folder: every output is in the bucket before its stage succeeds, and a blob the state folder lacks is fetched from it and checked against its digest."),
        Entry(path: "artifacts.s3", type: "mapping", defaultValue: nil,
              description: "An S3-compatible bucket (AWS S3, MinIO, Ceph); requests are signed with AWS Signature V4, files above 16 MiB go up in parts (`SLUICE_S3_PART_SIZE_MB`)."),
        Entry(path: "artifacts.s3.bucket", type: "string", defaultValue: nil, description: "The bucket's name (it must exist)."),
        Entry(path: "artifacts.s3.prefix", type: "string", defaultValue: "\"\"", description: "Keys start with it: `<prefix>/sha256/<ab>/<digest>`."),
        Entry(path: "artifacts.s3.endpoint", type: "URL", defaultValue: "AWS: https://<bucket>.s3.<region>.amazonaws.com",
              description: "The S3 API of another store (path-style requests); TLS is verified, `AWS_CA_BUNDLE` names extra authorities."),
        Entry(path: "artifacts.s3.region", type: "string", defaultValue: "us-east-1", description: "The region requests are signed for."),
        Entry(path: "artifacts.s3.credentials-env", type: "mapping", defaultValue: nil,
              description: "The variables holding the key: `access-key-id` (default `AWS_ACCESS_KEY_ID`), `secret-access-key` (`AWS_SECRET_ACCESS_KEY`), `session-token` (`AWS_SESSION_TOKEN`, optional)."),
        Entry(path: "store", type: "mapping", defaultValue: "SLUICE_DATABASE_URL's database, else the state folder's sluice.sqlite",
              description: "Where the run store is: a PostgreSQL database several replicas share, instead of the SQLite file of the state folder (the state folder still holds workspaces, logs and the artifact cache)."),
        Entry(path: "store.url-env", type: "variable name", defaultValue: nil,
              description: "The variable holding the database's URL, `postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=verify-full` (`sslmode`: `disable`, `require` or `verify-full`, the default; `sslrootcert`: the authorities' PEM file). Migrated on start, under an advisory lock."),
    ]

    /// The paths `ControllerConfigDecoder` accepts, from its key lists.
    public static var acceptedPaths: [String] {
        func under(_ prefix: String, _ keys: [String]) -> [String] { keys.map { prefix + "." + $0 } }
        var paths: [String] = ControllerConfigDecoder.topLevelKeys
        paths += under("lease", ControllerConfigDecoder.leaseKeys)
        paths += under("repositories", ControllerConfigDecoder.repositoryKeys)
        paths += under("repositories.merge-requests", ControllerConfigDecoder.mergeRequestKeys)
        paths += under("repositories.forge", ControllerConfigDecoder.forgeKeys)
        paths += under("repositories.verify", ControllerConfigDecoder.verifyKeys)
        paths += under("notifications", NotificationSettingsDecoder.keys)
        paths += under("notifications.providers", NotificationSettingsDecoder.providerKeys)
        paths += under("notifications.routes", NotificationSettingsDecoder.routeKeys)
        paths += under("artifacts", ControllerConfigDecoder.artifactsKeys)
        paths += under("artifacts.s3", ControllerConfigDecoder.s3Keys)
        paths += under("store", ControllerConfigDecoder.storeKeys)
        return paths
    }

    public static func page() -> String {
        var out = """
        # Controller configuration reference

        Generated from the code (`ControllerConfigReference`, checked against the keys
        `ControllerConfigDecoder` accepts) by `sluice reference`. `sluice watch --config FILE` reads it;
        `manifests/20-config.yaml` holds it as a ConfigMap. A configuration with any error is refused
        whole, each error located (`sluice watch --config FILE --check` only checks).

        | Key | Type | Default | Meaning |
        |---|---|---|---|

        """
        for e in entries {
            out += "| `\(e.path)` | \(e.type) | \(e.defaultValue.map { "`\($0)`" } ?? "") | \(e.description) |\n"
        }
        return out
    }
}
