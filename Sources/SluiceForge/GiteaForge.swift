public import SluiceHTTP

/// Gitea REST API v1: issue comments on the pull request, commit statuses.
/// https://gitea.com/api/swagger (issueGetComments, issueCreateComment, issueEditComment, repoCreateStatus)
public struct GiteaForge: Forge {
    public var name: String { "Gitea" }
    let http: ForgeClient
    let project: String

    public init(api: String, project: String, token: String, client: HTTPClient = HTTPClient()) {
        http = ForgeClient(client: client, base: api, headers: [("Authorization", "token \(token)")], forge: "Gitea")
        self.project = project
    }

    public func upsertComment(mergeRequest: Int, body: String, marker: String) throws(ForgeError) {
        let issue = "/repos/\(project)/issues/\(mergeRequest)/comments"
        try http.upsertComment(in: issue, edit: { "/repos/\(project)/issues/comments/\($0)" }, editMethod: "PATCH",
                               body: body, marker: marker)
    }

    public func setStatus(commit: String, state: CommitState, description: String, targetURL: String?) throws(ForgeError) {
        var body: [String: Any] = ["state": state.rawValue, "context": "sluice/gate", "description": description]
        if let targetURL { body["target_url"] = targetURL }
        _ = try http.send("POST", "/repos/\(project)/statuses/\(commit)", body)
    }

    /// https://gitea.com/api/swagger#/repository/repoGetPullRequest: `head.repo_id` and `base.repo_id`.
    public func mergeRequestOrigin(_ mergeRequest: Int) throws(ForgeError) -> MergeRequestOrigin {
        let pull = try http.object("/repos/\(project)/pulls/\(mergeRequest)")
        let head = pull["head"] as? [String: Any], base = pull["base"] as? [String: Any]
        let headID = head?["repo_id"] as? Int, baseID = base?["repo_id"] as? Int
        return MergeRequestOrigin(fromFork: headID == nil || headID != baseID,
                                  headRepository: (head?["repo"] as? [String: Any])?["full_name"] as? String,
                                  author: ((pull["user"] as? [String: Any])?["login"] as? String))
    }

    public func label(mergeRequest: Int) -> String { "pull request #\(mergeRequest)" }
    public var commentLimit: Int { 65_536 }

    public func openMergeRequests() throws(ForgeError) -> Set<Int> {
        Set(try http.list("/repos/\(project)/pulls?state=open").compactMap { $0["number"] as? Int })
    }
}
