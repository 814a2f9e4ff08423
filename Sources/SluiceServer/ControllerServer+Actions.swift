import Crypto
import Foundation
import SluiceCore
import Hummingbird
import HTTPTypes

/// Actions (re-run, promote, rollback, approve into an environment) over HTTP. Read-only unless the configuration names a
/// token (`token-env`); each action needs `Authorization: Bearer <token>` and is taken only by
/// the replica that leads. Bodies are JSON: `reason` (required for promote and rollback),
/// `actor` (recorded, default "api"), `to` (rollback's version).
extension ControllerServer {
    func addActions(to router: Router<BasicRequestContext>) {
        router.post("api/runs/:id/rerun") { request, context -> Response in
            try await self.action(request, context) { fields, actor in
                let (id, watcher) = try self.runAndWatcher(context)
                let run = try await watcher.rerun(id, actor: actor)
                return (.accepted, ["run": run.id!, "rerun_of": id, "commit": run.commit, "url": "/runs/\(run.id!)"])
            }
        }
        router.post("api/runs/:id/promote") { request, context -> Response in
            try await self.action(request, context) { fields, actor in
                let (id, watcher) = try self.runAndWatcher(context)
                let change = try await watcher.promote(id, actor: actor, reason: try Self.reason(fields))
                return (.ok, Self.describe(change))
            }
        }
        router.post("api/repositories/:name/approve") { request, context -> Response in
            try await self.action(request, context) { fields, actor in
                let watcher = try self.watcher(named: context)
                guard let ref = fields["ref"] as? String else {
                    throw BadRequest(message: "say which merge request: the body needs \"ref\" (e.g. refs/pull/7/head), and may name \"commit\"")
                }
                let commit = try await watcher.approve(ref: ref, commit: fields["commit"] as? String, actor: actor)
                return (.accepted, ["repository": watcher.repository.name, "ref": ref, "commit": commit, "approved_by": actor])
            }
        }
        // The UI's approve buttons: forms carrying the token (a browser cannot add the header).
        router.post("models/:model/versions/:version/approve") { request, context -> Response in
            let fields: [String: String]
            switch await self.form(request) {
            case .success(let f): fields = f
            case .failure(let refusal): return refusal.response
            }
            let model = context.parameters.get("model") ?? "", version = context.parameters.get("version") ?? ""
            var found: (any WatchedRepository)?
            for w in self.watchers.values where try await w.chains(model: model) { found = w }
            guard let watcher = found else { return Self.text(.notFound, "no watched repository has a version of model '\(model)' in its environments\n") }
            do {
                _ = try await watcher.approve(model: model, version: version, into: fields["to"] ?? "", actor: "web UI",
                                              reason: fields["reason"].flatMap { $0.isEmpty ? nil : $0 } ?? "approved in the web UI")
            } catch {
                return Self.text(.conflict, "\(error)\n")
            }
            return Response(status: .seeOther, headers: [.location: "/models/\(model)"])
        }
        router.post("repositories/:name/approve") { request, context -> Response in
            let fields: [String: String]
            switch await self.form(request) {
            case .success(let f): fields = f
            case .failure(let refusal): return refusal.response
            }
            do {
                let watcher = try self.watcher(named: context)
                _ = try await watcher.approve(ref: fields["ref"] ?? "", commit: fields["commit"], actor: "web UI")
            } catch let e as ActionError {
                return Self.text(.conflict, "\(e.description)\n")
            } catch let e as BadRequest {
                return Self.text(.badRequest, "\(e.message)\n")
            }
            return Response(status: .seeOther, headers: [.location: "/"])
        }
        router.post("api/models/:model/versions/:version/approve") { request, context -> Response in
            try await self.action(request, context) { fields, actor in
                let model = context.parameters.get("model") ?? "", version = context.parameters.get("version") ?? ""
                guard let into = fields["to"] as? String else { throw BadRequest(message: "say which environment: the body needs \"to\"") }
                var found: (any WatchedRepository)?
                for w in self.watchers.values where try await w.chains(model: model) { found = w }
                guard let watcher = found else {
                    throw ActionError.notFound("no watched repository has a version of model '\(model)' in its environments")
                }
                let position = try await watcher.approve(model: model, version: version, into: into, actor: actor, reason: try Self.reason(fields))
                return (.ok, ["model": model, "version": version, "approved_into": into, "approved_by": actor, "position": position])
            }
        }
        router.post("api/models/:model/rollback") { request, context -> Response in
            try await self.action(request, context) { fields, actor in
                let model = context.parameters.get("model") ?? ""
                guard let watcher = await self.watcher(producing: model) else {
                    throw ActionError.notFound("no watched repository has put model '\(model)' in production")
                }
                let change = try await watcher.rollback(model: model, to: fields["to"] as? String, actor: actor, reason: try Self.reason(fields))
                return (.ok, Self.describe(change))
            }
        }
    }

    struct FormRefusal: Error { let response: Response }

    /// A form's fields, once its token is right and this replica leads; else the answer to give.
    private func form(_ request: Request) async -> Result<[String: String], FormRefusal> {
        var request = request
        let body: String
        do { body = String(buffer: try await request.collectBody(upTo: 16 << 10)) } catch {
            return .failure(FormRefusal(response: Self.text(.contentTooLarge, "the approval form is larger than 16 KiB\n")))
        }
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            if kv.count == 2 { fields[kv[0]] = kv[1] }
        }
        guard let token = actionToken else {
            return .failure(FormRefusal(response: Self.text(.forbidden, "this controller is read-only: set token-env in its configuration to enable actions\n")))
        }
        guard let given = fields["token"], Self.same(given, token) else { return .failure(FormRefusal(response: Self.text(.unauthorized, "the API token is wrong\n"))) }
        guard leadership.current.leading else {
            return .failure(FormRefusal(response: Self.text(.serviceUnavailable, "this replica does not lead; approve on the leader\n")))
        }
        return .success(fields)
    }

    /// Checks the token and leadership, reads the JSON body, runs the action, and answers
    /// JSON: the action's result, or `{"error": ...}` with a status that says why.
    private func action(_ request: Request, _ context: BasicRequestContext,
                        _ body: @Sendable ([String: Any], String) async throws -> (HTTPResponse.Status, [String: Any])) async throws -> Response {
        guard let token = actionToken else {
            return Self.json(.forbidden, ["error": "this controller is read-only: set token-env in its configuration to enable actions"])
        }
        guard let given = request.headers[.authorization], given.hasPrefix("Bearer "), Self.same(String(given.dropFirst(7)), token) else {
            var response = Self.json(.unauthorized, ["error": "actions need 'Authorization: Bearer <token>' with the token from the configuration's token-env"])
            response.headers[.wwwAuthenticate] = "Bearer realm=\"sluice\""
            return response
        }
        let leader = leadership.current
        guard leader.leading else {
            return Self.json(.serviceUnavailable, ["error": "this replica does not lead (\(leader.text)); send actions to the leader"])
        }
        var request = request
        let bytes = Array(((try? await request.collectBody(upTo: 64 << 10)) ?? ByteBuffer()).readableBytesView)
        let fields: [String: Any]
        if bytes.isEmpty {
            fields = [:]
        } else if let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] {
            fields = object
        } else {
            return Self.json(.badRequest, ["error": "the body must be a JSON object, e.g. {\"reason\": \"...\", \"actor\": \"...\"}"])
        }
        let actor = (fields["actor"] as? String).map { "\($0) (api)" } ?? "api"
        do {
            let (status, result) = try await body(fields, actor)
            return Self.json(status, result)
        } catch let e as ActionError {
            switch e {
            case .notFound: return Self.json(.notFound, ["error": e.description])
            case .conflict: return Self.json(.conflict, ["error": e.description])
            case .failed: return Self.json(.unprocessableContent, ["error": e.description])
            }
        } catch let e as BadRequest {
            return Self.json(.badRequest, ["error": e.message])
        }
    }

    struct BadRequest: Error { let message: String }

    private static func reason(_ fields: [String: Any]) throws -> String {
        guard let reason = fields["reason"] as? String, !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw BadRequest(message: "say why: the body needs a non-empty \"reason\" (it is recorded in the promotion log and the git note)")
        }
        return reason
    }

    private func runAndWatcher(_ context: BasicRequestContext) throws -> (Int64, any WatchedRepository) {
        guard let id = context.parameters.get("id").flatMap(Int64.init) else { throw BadRequest(message: "the run id must be a number") }
        // A run store that cannot be read is a failure to say, not a run that does not exist.
        let found: RunRecord?
        do { found = try store.run(id) } catch { throw ActionError.failed("run \(id) could not be read from the run store: \(error)") }
        guard let run = found else { throw ActionError.notFound("no run \(id)") }
        guard let watcher = watchers.values.first(where: { $0.repository.url == run.repository }) else {
            throw ActionError.notFound("run \(id) belongs to \(run.repository), which this controller does not watch")
        }
        return (id, watcher)
    }

    private func watcher(named context: BasicRequestContext) throws -> any WatchedRepository {
        let name = context.parameters.get("name") ?? ""
        guard let watcher = watchers[name] else { throw ActionError.notFound("this controller watches no repository named '\(name)'") }
        return watcher
    }

    private func watcher(producing model: String) async -> (any WatchedRepository)? {
        for w in watchers.values where await w.produces(model: model) { return w }
        return nil
    }

    private static func describe(_ change: PromotionSummary) -> [String: Any] {
        var out: [String: Any] = ["model": change.entry.model, "version": change.entry.version, "action": change.entry.action.rawValue,
                                  "previous_version": change.entry.previousVersion as Any, "actor": change.entry.actor]
        if let to = change.deployedTo { out["deployed_to"] = to; out["healthy"] = change.healthy ?? true }
        if let p = change.deployProblem { out["deploy_problem"] = p }
        if !change.problems.isEmpty { out["problems"] = change.problems }
        return out
    }

    /// Compares digests, so the time taken says nothing about the token.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = SHA256.hash(data: Data(a.utf8)), y = SHA256.hash(data: Data(b.utf8))
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func json(_ status: HTTPResponse.Status, _ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object.compactMapValues { $0 is NSNull ? nil : $0 }, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data + Data("\n".utf8))))
    }
}
