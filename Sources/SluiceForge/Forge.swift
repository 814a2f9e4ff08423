import Foundation
import SluiceCore
public import SluiceHTTP

/// What Sluice tells a forge about a merge request: one report comment (updated in place
/// on re-runs, found by a hidden marker) and a commit status linking to the report.
public protocol Forge: Sendable {
    var name: String { get }
    /// Creates the comment, or updates the one that holds `marker`.
    func upsertComment(mergeRequest: Int, body: String, marker: String) throws(ForgeError)
    func setStatus(commit: String, state: CommitState, description: String, targetURL: String?) throws(ForgeError)
    /// Whether the merge request's head branch lives in a fork of the project.
    func mergeRequestOrigin(_ mergeRequest: Int) throws(ForgeError) -> MergeRequestOrigin
    /// The numbers of the project's open merge requests.
    func openMergeRequests() throws(ForgeError) -> Set<Int>
    /// How the forge names one: "pull request #7" (GitHub, Gitea), "merge request !7" (GitLab).
    func label(mergeRequest: Int) -> String
    /// The longest comment the forge accepts, in characters.
    var commentLimit: Int { get }
}

public enum CommitState: String, Sendable {
    case pending, success, failure
}

public struct ForgeError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public var status: Int?
    public init(_ description: String, status: Int? = nil) {
        self.description = description
        self.status = status
    }
}

/// Which forge and project, from the environment:
/// `SLUICE_FORGE` (github, gitlab, gitea), `SLUICE_FORGE_PROJECT` (owner/name, or a GitLab
/// project path or id), `SLUICE_FORGE_TOKEN`, and `SLUICE_FORGE_API` (default: GitHub's
/// and GitLab's public APIs; required for Gitea).
public enum ForgeConfiguration {
    public static func fromEnvironment(_ env: [String: String], client: HTTPClient = HTTPClient()) throws(ForgeError) -> (any Forge)? {
        guard let kind = env["SLUICE_FORGE"], !kind.isEmpty else { return nil }
        guard let project = env["SLUICE_FORGE_PROJECT"], !project.isEmpty else {
            throw ForgeError("SLUICE_FORGE is \(kind) but SLUICE_FORGE_PROJECT is not set (e.g. owner/repo)")
        }
        guard let token = env["SLUICE_FORGE_TOKEN"], !token.isEmpty else {
            throw ForgeError("SLUICE_FORGE is \(kind) but SLUICE_FORGE_TOKEN is not set")
        }
        let api = env["SLUICE_FORGE_API"].flatMap { $0.isEmpty ? nil : $0 }
        guard let forge = ForgeKind(rawValue: kind) else { throw ForgeError("unknown SLUICE_FORGE '\(kind)': use \(ForgeKind.spelled)") }
        switch forge {
        case .github: return GitHubForge(api: api ?? "https://api.github.com", project: project, token: token, client: client)
        case .gitlab: return GitLabForge(api: api ?? "https://gitlab.com/api/v4", project: project, token: token, client: client)
        case .gitea:
            guard let api else { throw ForgeError("SLUICE_FORGE is gitea: set SLUICE_FORGE_API to the server's API, e.g. https://gitea.example.com/api/v1") }
            return GiteaForge(api: api, project: project, token: token, client: client)
        }
    }
}

/// The JSON-over-HTTP plumbing the three forges share.
struct ForgeClient: Sendable {
    let client: HTTPClient
    let base: String
    let headers: [(name: String, value: String)]
    let forge: String

    init(client: HTTPClient, base: String, headers: [(name: String, value: String)], forge: String) {
        var b = base
        while b.hasSuffix("/") { b.removeLast() }
        self.client = client
        self.base = b
        self.headers = headers
        self.forge = forge
    }

    /// GETs one JSON object.
    func object(_ path: String) throws(ForgeError) -> [String: Any] {
        guard let object = try send("GET", path) as? [String: Any] else { throw ForgeError("\(forge): GET \(path) did not answer a JSON object") }
        return object
    }

    func send(_ method: String, _ path: String, _ body: [String: Any]? = nil) throws(ForgeError) -> Any {
        var h = headers + [("Accept", "application/json"), ("User-Agent", "sluice")]
        var bytes: [UInt8]?
        if let body {
            h.append(("Content-Type", "application/json"))
            bytes = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])).map { [UInt8]($0) }
        }
        let response: HTTPResponse
        do {
            response = try client.send(HTTPRequest(method: method, url: base + path, headers: h, body: bytes, timeout: 30))
        } catch {
            throw ForgeError("\(forge): \(method) \(path) failed: \(error)")
        }
        guard (200..<300).contains(response.status) else {
            let detail = ((try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any])?["message"].map { "\($0)" }
                ?? String(response.text.prefix(200))
            throw ForgeError("\(forge): \(method) \(path) answered \(response.status): \(detail)\(advice(response.status, path: path))", status: response.status)
        }
        return (try? JSONSerialization.jsonObject(with: Data(response.body.isEmpty ? Array("{}".utf8) : response.body))) ?? [:]
    }

    /// What a 401 or 403 means for this forge and endpoint.
    func advice(_ status: Int, path: String) -> String {
        if status == 401 { return " — the token is invalid or has expired: create a new one and update the secret" }
        guard status == 403 else { return "" }
        let statuses = path.contains("/statuses/")
        switch forge {
        case "GitHub":
            return statuses ? " — the token may not set commit statuses: it needs 'Commit statuses: write' (a classic token: the 'repo:status' scope)"
                            : " — the token may not comment: it needs 'Pull requests: write' (a classic token: the 'repo' or 'public_repo' scope)"
        case "GitLab":
            return " — the token needs the 'api' scope and at least the Developer role in the project"
        default:
            return statuses ? " — the token needs the 'write:repository' scope" : " — the token needs the 'write:issue' scope"
        }
    }

    /// Updates the comment holding `marker` in `collection`, or posts a new one there.
    func upsertComment(in collection: String, edit: (Int) -> String, editMethod: String, body: String, marker: String) throws(ForgeError) {
        let comments = try list(collection)
        if let existing = comments.first(where: { ($0["body"] as? String)?.contains(marker) == true }), let id = existing["id"] as? Int {
            _ = try send(editMethod, edit(id), ["body": body])
        } else {
            _ = try send("POST", collection, ["body": body])
        }
    }

    /// Pages through a list endpoint (`per_page`/`page`, as all three forges accept).
    func list(_ path: String) throws(ForgeError) -> [[String: Any]] {
        var all: [[String: Any]] = []
        for page in 1...50 {
            let separator = path.contains("?") ? "&" : "?"
            let items = try send("GET", "\(path)\(separator)per_page=100&page=\(page)") as? [[String: Any]] ?? []
            all += items
            if items.count < 100 { break }
        }
        return all
    }

}

/// Where a merge request's head branch lives, as the forge reports it.
public struct MergeRequestOrigin: Sendable, Hashable {
    public var fromFork: Bool
    /// `owner/name` of the head's repository (nil: the forge no longer knows it, e.g. a deleted fork).
    public var headRepository: String?
    public var author: String?

    public init(fromFork: Bool, headRepository: String?, author: String?) {
        self.fromFork = fromFork
        self.headRepository = headRepository
        self.author = author
    }
}
