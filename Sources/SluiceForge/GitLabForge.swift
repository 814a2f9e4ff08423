public import SluiceHTTP

/// GitLab REST API v4: merge request notes, commit statuses.
/// https://docs.gitlab.com/api/notes/#merge-requests, https://docs.gitlab.com/api/commits/#set-the-pipeline-status-of-a-commit
public struct GitLabForge: Forge {
    public var name: String { "GitLab" }
    let http: ForgeClient
    /// The project's path (`group/project`, URL-encoded) or numeric id.
    let project: String

    public init(api: String, project: String, token: String, client: HTTPClient = HTTPClient()) {
        http = ForgeClient(client: client, base: api, headers: [("PRIVATE-TOKEN", token)], forge: "GitLab")
        self.project = URLEncoding.component(project)
    }

    public func upsertComment(mergeRequest: Int, body: String, marker: String) throws(ForgeError) {
        let notes = "/projects/\(project)/merge_requests/\(mergeRequest)/notes"
        try http.upsertComment(in: notes, edit: { "\(notes)/\($0)" }, editMethod: "PUT", body: body, marker: marker)
    }

    public func setStatus(commit: String, state: CommitState, description: String, targetURL: String?) throws(ForgeError) {
        // GitLab names the failure state `failed`.
        var body: [String: Any] = ["state": state == .failure ? "failed" : state.rawValue, "name": "sluice/gate",
                                   "description": String(description.prefix(255))]
        if let targetURL { body["target_url"] = targetURL }
        _ = try http.send("POST", "/projects/\(project)/statuses/\(commit)", body)
    }

    /// https://docs.gitlab.com/api/merge_requests/#get-single-mr: `source_project_id` and `target_project_id`.
    public func mergeRequestOrigin(_ mergeRequest: Int) throws(ForgeError) -> MergeRequestOrigin {
        let mr = try http.object("/projects/\(project)/merge_requests/\(mergeRequest)")
        let source = mr["source_project_id"] as? Int, target = mr["target_project_id"] as? Int
        return MergeRequestOrigin(fromFork: source == nil || source != target, headRepository: source.map { "project \($0)" },
                                  author: ((mr["author"] as? [String: Any])?["username"] as? String))
    }

    public func label(mergeRequest: Int) -> String { "merge request !\(mergeRequest)" }
    public var commentLimit: Int { 1_000_000 }

    public func openMergeRequests() throws(ForgeError) -> Set<Int> {
        Set(try http.list("/projects/\(project)/merge_requests?state=opened").compactMap { $0["iid"] as? Int })
    }
}
