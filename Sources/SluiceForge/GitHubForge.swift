public import SluiceHTTP

/// GitHub REST API v3: issue comments on the pull request, commit statuses.
/// https://docs.github.com/rest/issues/comments, https://docs.github.com/rest/commits/statuses
public struct GitHubForge: Forge {
    public var name: String { "GitHub" }
    let http: ForgeClient
    let project: String

    public init(api: String, project: String, token: String, client: HTTPClient = HTTPClient()) {
        http = ForgeClient(client: client, base: api, headers: [("Authorization", "Bearer \(token)"), ("X-GitHub-Api-Version", "2022-11-28")],
                           forge: "GitHub")
        self.project = project
    }

    public func upsertComment(mergeRequest: Int, body: String, marker: String) throws(ForgeError) {
        let issue = "/repos/\(project)/issues/\(mergeRequest)/comments"
        try http.upsertComment(in: issue, edit: { "/repos/\(project)/issues/comments/\($0)" }, editMethod: "PATCH",
                               body: body, marker: marker)
    }

    public func setStatus(commit: String, state: CommitState, description: String, targetURL: String?) throws(ForgeError) {
        var body: [String: Any] = ["state": state.rawValue, "context": "sluice/gate", "description": String(description.prefix(140))]
        if let targetURL { body["target_url"] = targetURL }
        _ = try http.send("POST", "/repos/\(project)/statuses/\(commit)", body)
    }

    /// https://docs.github.com/rest/pulls/pulls#get-a-pull-request: `head.repo` is null when the
    /// fork was deleted (still a fork).
    public func mergeRequestOrigin(_ mergeRequest: Int) throws(ForgeError) -> MergeRequestOrigin {
        let pull = try http.object("/repos/\(project)/pulls/\(mergeRequest)")
        let head = ((pull["head"] as? [String: Any])?["repo"] as? [String: Any])?["full_name"] as? String
        let base = ((pull["base"] as? [String: Any])?["repo"] as? [String: Any])?["full_name"] as? String
        return MergeRequestOrigin(fromFork: head == nil || head?.lowercased() != (base ?? project).lowercased(), headRepository: head,
                                  author: ((pull["user"] as? [String: Any])?["login"] as? String))
    }

    public func label(mergeRequest: Int) -> String { "pull request #\(mergeRequest)" }
    public var commentLimit: Int { 65_536 }

    public func openMergeRequests() throws(ForgeError) -> Set<Int> {
        Set(try http.list("/repos/\(project)/pulls?state=open").compactMap { $0["number"] as? Int })
    }
}
