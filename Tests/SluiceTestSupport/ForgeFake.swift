import Foundation

/// A local stand-in for the GitHub, GitLab and Gitea REST APIs (no forge can run here).
/// It checks each request against the documented endpoint shapes — method, path,
/// authentication header, JSON body fields and allowed values — keeps comments and
/// statuses in memory, answers 403 to writes made with the token `read-only`, 401 to anything
/// with a token starting `expired`, and 422 to a comment longer than the forge's limit.
/// Anything off-spec is answered 422 and listed by `violations()`.
///
/// Bases: `/github` (GitHub API root), `/gitlab/api/v4`, `/gitea/api/v1`.
public final class ForgeFake: @unchecked Sendable {
    public let server: PythonScriptServer
    public var baseURL: String { "http://127.0.0.1:\(server.port)" }

    public init() throws { server = try PythonScriptServer(script: Self.script) }

    public func api(_ forge: String) -> String {
        switch forge {
        case "github": return baseURL + "/github"
        case "gitlab": return baseURL + "/gitlab/api/v4"
        default: return baseURL + "/gitea/api/v1"
        }
    }

    func get(_ path: String) throws -> Any {
        let r = try ProcessRunner.run("curl", ["-s", baseURL + path])
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
    }

    /// Comments on a merge request: [(id, body)].
    public func comments(_ forge: String, mergeRequest: Int) throws -> [[String: Any]] {
        (try get("/_state/\(forge)/comments/\(mergeRequest)") as? [[String: Any]]) ?? []
    }

    /// Statuses posted for a commit, oldest first: [{state, context, description, target_url}].
    public func statuses(_ forge: String, commit: String) throws -> [[String: Any]] {
        (try get("/_state/\(forge)/statuses/\(commit)") as? [[String: Any]]) ?? []
    }

    public func violations() throws -> [String] { (try get("/_violations") as? [String]) ?? [] }

    /// Closes merge request `number` (the project's merge requests 1–20 are open until closed).
    public func close(_ forge: String, mergeRequest number: Int) throws {
        _ = try ProcessRunner.run("curl", ["-s", "-X", "POST", "\(baseURL)/_closed/\(forge)/\(number)"])
    }

    /// Makes merge request `number` come from a fork (`owner/name` of the fork's repository);
    /// every other merge request's head is in the project itself.
    public func markFork(_ forge: String, mergeRequest number: Int, from repository: String = "mallory/iris") throws {
        _ = try ProcessRunner.run("curl", ["-s", "-X", "POST", "\(baseURL)/_forks/\(forge)/\(number)", "-d", repository])
    }

    static let script = #"""
    import json, re
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import urlparse, unquote

    comments = {}   # (forge, mr) -> [ {id, body} ]
    forks = {}      # (forge, mr) -> the fork's owner/name
    closed = set()  # (forge, mr): merge requests 1-20 are open unless closed here
    statuses = {}   # (forge, sha) -> [ {...} ]
    violations = []
    next_id = [100]

    STATES = {
        "github": {"error", "failure", "pending", "success"},                       # docs.github.com/rest/commits/statuses
        "gitlab": {"pending", "running", "success", "failed", "canceled", "skipped"}, # docs.gitlab.com/api/commits
        "gitea": {"pending", "success", "error", "failure", "warning"},              # gitea swagger CommitStatusState
    }
    SHA = r"[0-9a-f]{40}"
    ROUTES = [  # forge, method, pattern -> action
        ("github", "GET",   rf"^/github/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$", "list"),
        ("github", "POST",  rf"^/github/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$", "create"),
        ("github", "PATCH", rf"^/github/repos/([^/]+)/([^/]+)/issues/comments/(\d+)$", "edit"),
        ("github", "POST",  rf"^/github/repos/([^/]+)/([^/]+)/statuses/({SHA})$", "status"),
        ("github", "GET",   rf"^/github/repos/([^/]+)/([^/]+)/pulls/(\d+)$", "pull"),
        ("github", "GET",   rf"^/github/repos/([^/]+)/([^/]+)/pulls$", "pulls"),
        ("gitlab", "GET",   rf"^/gitlab/api/v4/projects/([^/]+)/merge_requests$", "pulls"),
        ("gitea",  "GET",   rf"^/gitea/api/v1/repos/([^/]+)/([^/]+)/pulls$", "pulls"),
        ("gitlab", "GET",   rf"^/gitlab/api/v4/projects/([^/]+)/merge_requests/(\d+)$", "pull"),
        ("gitea",  "GET",   rf"^/gitea/api/v1/repos/([^/]+)/([^/]+)/pulls/(\d+)$", "pull"),
        ("gitlab", "GET",   rf"^/gitlab/api/v4/projects/([^/]+)/merge_requests/(\d+)/notes$", "list"),
        ("gitlab", "POST",  rf"^/gitlab/api/v4/projects/([^/]+)/merge_requests/(\d+)/notes$", "create"),
        ("gitlab", "PUT",   rf"^/gitlab/api/v4/projects/([^/]+)/merge_requests/(\d+)/notes/(\d+)$", "edit"),
        ("gitlab", "POST",  rf"^/gitlab/api/v4/projects/([^/]+)/statuses/({SHA})$", "status"),
        ("gitea",  "GET",   rf"^/gitea/api/v1/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$", "list"),
        ("gitea",  "POST",  rf"^/gitea/api/v1/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$", "create"),
        ("gitea",  "PATCH", rf"^/gitea/api/v1/repos/([^/]+)/([^/]+)/issues/comments/(\d+)$", "edit"),
        ("gitea",  "POST",  rf"^/gitea/api/v1/repos/([^/]+)/([^/]+)/statuses/({SHA})$", "status"),
    ]

    def token_of(forge, headers):
        if forge == "github":
            v = headers.get("Authorization", "")
            if not v.startswith("Bearer "): return None, "GitHub needs 'Authorization: Bearer <token>'"
            if "X-GitHub-Api-Version" not in headers: return None, "GitHub requests should send X-GitHub-Api-Version"
            if not headers.get("User-Agent"): return None, "GitHub rejects requests without User-Agent"
            return v[7:], None
        if forge == "gitlab":
            v = headers.get("PRIVATE-TOKEN")
            return (v, None) if v else (None, "GitLab needs the PRIVATE-TOKEN header")
        v = headers.get("Authorization", "")
        return (v[6:], None) if v.startswith("token ") else (None, "Gitea needs 'Authorization: token <token>'")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *args): pass

        def reply(self, status, payload):
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def bad(self, message):
            violations.append(f"{self.command} {self.path}: {message}")
            self.reply(422, {"message": message})

        def handle_any(self):
            url = urlparse(self.path)
            path = url.path
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if path.startswith("/_state/"):
                _, _, forge, kind, key = path.split("/", 4)
                store = comments if kind == "comments" else statuses
                items = store.get((forge, int(key) if kind == "comments" else key), [])
                return self.reply(200, items)
            if path == "/_violations":
                return self.reply(200, violations)
            if path.startswith("/_closed/"):
                _, _, forge, number = path.split("/", 3)
                closed.add((forge, int(number)))
                return self.reply(200, {})
            if path.startswith("/_forks/"):
                _, _, forge, number = path.split("/", 3)
                forks[(forge, int(number))] = raw.decode()
                return self.reply(200, {})
            for forge, method, pattern, action in ROUTES:
                m = re.match(pattern, path)
                if m and method == self.command:
                    break
            else:
                return self.bad("no such endpoint in the documented API")
            token, problem = token_of(forge, self.headers)
            if problem: return self.bad(problem)
            if token.startswith("expired"):
                return self.reply(401, {"message": "Bad credentials" if forge == "github" else "401 Unauthorized"})
            if forge == "gitlab" and "/" in unquote(m.group(1)) and "%2F" not in m.group(1).upper():
                return self.bad("GitLab project paths must be URL-encoded (group%2Fproject)")
            body = {}
            if self.command != "GET":
                if self.headers.get("Content-Type", "").split(";")[0] != "application/json":
                    return self.bad("JSON bodies need Content-Type: application/json")
                try: body = json.loads(raw or b"{}")
                except ValueError: return self.bad("body is not JSON")
                if token == "read-only":
                    return self.reply(403, {"message": "Resource not accessible by personal access token"})
            if action == "pulls":
                query = dict(kv.split("=", 1) for kv in url.query.split("&") if "=" in kv)
                wanted = "opened" if forge == "gitlab" else "open"
                if query.get("state") != wanted:
                    return self.bad(f"list open merge requests with state={wanted}")
                page, per_page = int(query.get("page", "1")), int(query.get("per_page", "30"))
                numbers = [n for n in range(1, 21) if (forge, n) not in closed][(page - 1) * per_page:page * per_page]
                key = "iid" if forge == "gitlab" else "number"
                return self.reply(200, [{key: n, "state": wanted} for n in numbers])
            if action == "pull":
                # The fields Sluice reads, shaped as each forge documents them.
                mr = int(m.groups()[-1])
                fork = forks.get((forge, mr))
                if forge == "gitlab":
                    return self.reply(200, {"iid": mr, "target_project_id": 1, "source_project_id": 2 if fork else 1,
                                            "author": {"username": "mallory" if fork else "alice"}})
                project = f"{m.group(1)}/{m.group(2)}"
                head_repo = {"id": 2 if fork else 1, "full_name": fork or project}
                base_repo = {"id": 1, "full_name": project}
                pull = {"number": mr, "user": {"login": "mallory" if fork else "alice"},
                        "head": {"repo": head_repo}, "base": {"repo": base_repo}}
                if forge == "gitea":
                    pull["head"]["repo_id"] = head_repo["id"]
                    pull["base"]["repo_id"] = 1
                return self.reply(200, pull)
            if action == "list":
                mr = int(m.groups()[-1])
                return self.reply(200, comments.get((forge, mr), []))
            if action in ("create", "edit"):
                if set(body) != {"body"} or not isinstance(body["body"], str) or not body["body"]:
                    return self.bad("a comment body is exactly {\"body\": \"<markdown>\"}")
                limit = 1000000 if forge == "gitlab" else 65536
                if len(body["body"]) > limit:   # as GitHub answers (docs: "maximum is 65536 characters")
                    return self.reply(422, {"message": "Validation Failed", "errors": [
                        {"resource": "IssueComment", "code": "custom", "field": "body", "message": f"body is too long (maximum is {limit} characters)"}]})
                if action == "create":
                    mr = int(m.groups()[-1])
                    next_id[0] += 1
                    item = {"id": next_id[0], "body": body["body"]}
                    comments.setdefault((forge, mr), []).append(item)
                    return self.reply(201, item)
                cid = int(m.groups()[-1])
                for items in comments.values():
                    for item in items:
                        if item["id"] == cid:
                            item["body"] = body["body"]
                            return self.reply(200, item)
                return self.reply(404, {"message": "Not Found"})
            if action == "status":
                sha = m.groups()[-1]
                state = body.get("state")
                if state not in STATES[forge]:
                    return self.bad(f"state {state!r} is not one of {sorted(STATES[forge])}")
                name_key = "name" if forge == "gitlab" else "context"
                if not isinstance(body.get(name_key), str):
                    return self.bad(f"{forge} statuses take '{name_key}'")
                allowed = {"state", name_key, "description", "target_url"}
                if not set(body) <= allowed:
                    return self.bad(f"unknown fields {sorted(set(body) - allowed)}")
                if forge == "github" and len(body.get("description", "")) > 140:
                    return self.bad("GitHub status descriptions are at most 140 characters")
                statuses.setdefault((forge, sha), []).append(body)
                return self.reply(201, body)

        do_GET = do_POST = do_PATCH = do_PUT = handle_any

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("PORT", server.server_address[1], flush=True)
    server.serve_forever()
    """#
}
