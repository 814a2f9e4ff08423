import Foundation
import Hummingbird
import HTTPTypes
import SluiceCore
import SluiceRunner
import SluiceStore

/// The web UI: server-rendered pages from the templates in `UI/`, one stylesheet, and one
/// small script that appends live logs. A follower serves the leader's pages.
extension ControllerServer {
    func addPages(to router: Router<BasicRequestContext>) {
        router.get("ui/style.css") { _, _ in Self.asset(Stylesheet.css, type: "text/css; charset=utf-8") }
        router.get("ui/live.js") { _, _ in Self.asset(LiveLog.script, type: "text/javascript; charset=utf-8") }

        router.get("/") { request, _ -> Response in
            if let relayed = await self.fromLeader(request) { return relayed }
            return try await self.render("Repositories", "index", self.indexView())
        }
        router.get("repositories/:name") { request, context -> Response in
            if let relayed = await self.fromLeader(request) { return relayed }
            guard let name = context.parameters.get("name"), let watcher = self.watchers[name] else { return Self.text(.notFound, "no such repository\n") }
            return try await self.render(name, "repository", self.repositoryView(watcher))
        }
        router.get("api/repositories/:name/previews") { request, context -> Response in
            if let relayed = await self.fromLeader(request) { return relayed }
            guard let name = context.parameters.get("name"), let watcher = self.watchers[name] else { return Self.json(.notFound, ["error": "no such repository"]) }
            let previews = try self.store.previews(repository: watcher.repository.url)
            let body = try JSONEncoder().encode(PreviewList(repository: name, previews: previews)) + Data("\n".utf8)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        router.get("runs/:id") { request, context -> Response in
            if let relayed = await self.fromLeader(request) { return relayed }
            guard let id = context.parameters.get("id").flatMap(Int64.init), let run = try self.store.run(id) else {
                return Self.text(.notFound, "no such run\n")
            }
            let stages = try self.store.stages(of: id)
            // Where each cache hit came from (a run's scope: the production branch, a merge request).
            var origins: [Int64: String] = [:]
            for source in Set(stages.compactMap(\.cachedFrom)) { origins[source] = try self.store.run(source)?.cacheScope }
            var view = try RunView(run: run, repositoryName: self.repositoryNames[run.repository], stages: stages, reports: try self.store.reports(of: id), cacheOrigins: origins,
                                   actions: self.actionToken != nil, log: { [store = self.store] in try store.stageLog($0) })
            view.charts = try RunCharts.charts(run: id, store: self.store).map { RunView.ChartView($0, run: id) }
            return Self.document(Templates.render("layout", Layout(title: view.heading, live: view.liveURL != nil, body: Templates.render("run", view))))
        }
        // Each chart of a run as an image of its own, at a stable address (merge-request comments
        // link it): `<file>.svg`, or `<file>.png` drawn from it for viewers that will not show SVG.
        router.get("runs/:id/charts/:file") { request, context -> Response in
            if let relayed = await self.fromLeader(request) { return relayed }
            let file = context.parameters.get("file") ?? ""
            let png = file.hasSuffix(".png")
            let svgFile = png ? String(file.dropLast(4)) + ".svg" : file
            guard let id = context.parameters.get("id").flatMap(Int64.init),
                  let chart = try RunCharts.charts(run: id, store: self.store).first(where: { $0.file == svgFile }) else {
                return Self.text(.notFound, "no such chart\n")
            }
            guard png else {
                return Response(status: .ok, headers: [.contentType: "image/svg+xml; charset=utf-8", .cacheControl: "no-cache"],
                                body: .init(byteBuffer: ByteBuffer(string: chart.svg)))
            }
            do {
                let bytes = try await Offload.run { try ChartPNG.render(chart.svg, environment: ProcessInfo.processInfo.environment) }
                return Response(status: .ok, headers: [.contentType: "image/png", .cacheControl: "no-cache"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
            } catch {
                return Self.text(.notImplemented, "\(error)\n")
            }
        }
        router.get("runs/:id/events") { request, context -> Response in
            if let relayed = await self.fromLeader(request) { return relayed }
            guard let id = context.parameters.get("id").flatMap(Int64.init), try self.store.run(id) != nil else { return Self.text(.notFound, "no such run\n") }
            var offsets: [String: Int] = [:]
            for (stage, value) in request.uri.queryParameters { offsets[String(stage)] = Int(String(value)).map { max(0, $0) } ?? 0 }
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
                            body: LiveLog.stream(run: id, offsets: offsets, store: self.store))
        }
        router.get("models/:model") { request, context -> Response in
            if let relayed = await self.fromLeader(request) { return relayed }
            let model = context.parameters.get("model") ?? ""
            var deployedTo: [String: [String]] = [:]
            let steps = try self.store.steps(model: model)
            for environment in await self.environmentNames().union(steps.map(\.environment)).sorted() {
                if let deployed = try self.store.deployedVersion(model: model, environment: environment) { deployedTo[deployed.version, default: []].append(environment) }
            }
            let view = ModelView(model: model, log: try self.store.promotions(model: model), versions: try self.store.modelVersions(model: model),
                                 deployedTo: deployedTo, metric: request.uri.queryParameters.get("metric"),
                                 history: try RunCharts.gateHistory(model: model, store: self.store), steps: steps,
                                 actions: self.actionToken != nil,
                                 signedRuns: try self.store.runIDs(withReport: ReportRecord.modelSignatureKind))
            return try await self.render(model, "model", view)
        }
        // What a verifier needs without Sluice's database: the model-signing bundle and the signed
        // provenance and gate statements (DSSE envelopes) of a version (`gate.signing`).
        router.get("api/models/:model/versions/:version/attestations") { request, context -> Response in
            if let relayed = await self.fromLeader(request) { return relayed }
            let (model, version) = (context.parameters.get("model") ?? "", context.parameters.get("version") ?? "")
            guard let run = try self.store.modelVersions(model: model).first(where: { $0.version == version })?.runId else {
                return Self.json(.notFound, ["error": "\(model) has no version \(version)"])
            }
            let reports = try self.store.reports(of: run)
            func parsed(_ kind: String) throws -> Any? {
                try reports.last { $0.kind == kind }.map { try JSONSerialization.jsonObject(with: Data($0.content.utf8)) }
            }
            do {
                guard let signature = try parsed(ReportRecord.modelSignatureKind) else {
                    return Self.json(.notFound, ["error": "\(model) version \(version) (run \(run)) was not signed (gate.signing)"])
                }
                return Self.json(.ok, ["model": model, "version": version, "run": run, "signature": signature,
                                       "attestations": try [parsed(ReportRecord.provenanceKind), parsed(ReportRecord.gateAttestationKind)].compactMap { $0 }
                                           + reports.filter { ReportRecord.isApprovalAttestation($0.kind) }.map {
                                               try JSONSerialization.jsonObject(with: Data($0.content.utf8))
                                           }])
            } catch {
                return Self.json(.internalServerError, ["error": "the signature or attestations stored with run \(run) are not JSON: \(error)"])
            }
        }
    }

    struct Layout {
        let title: String
        let live: Bool
        let body: String
    }

    func render(_ title: String, _ template: String, _ view: Any) async throws -> Response {
        Self.document(Templates.render("layout", Layout(title: title, live: false, body: Templates.render(template, view))))
    }

    /// Every environment some watcher reports on.
    func environmentNames() async -> Set<String> {
        var names = Set<String>()
        for watcher in watchers.values { names.formUnion(await watcher.health.environments.keys) }
        return names
    }

    /// Watched repositories' names by the URL their runs are stored under.
    var repositoryNames: [String: String] {
        Dictionary(watchers.map { ($0.value.repository.url, $0.key) }, uniquingKeysWith: { a, _ in a })
    }

    /// Run rows link to the repository page of the watcher that ran them.
    func runRows(_ runs: [RunRecord]) -> [RunRow] {
        let names = repositoryNames
        return runs.map { RunRow($0, repositoryName: names[$0.repository]) }
    }

    func indexView() async throws -> IndexView {
        var repositories: [IndexView.Repository] = []
        var held: [IndexView.Held] = []
        for (name, watcher) in watchers.sorted(by: { $0.key < $1.key }) {
            let health = await watcher.health
            let problems = health.conditions.all.filter { !$0.isTrue && $0.kind != .ready && !Condition.Kind.informational.contains($0.kind) }.map { ConditionRow($0) }
                + health.environments.sorted { $0.key < $1.key }.flatMap { env in
                    env.value.all.filter { !$0.isTrue && $0.kind != .ready }.map { ConditionRow($0, environment: env.key) }
                }
            let last = try store.runs(repository: watcher.repository.url, limit: 1).first
            // The card says what /readyz says: Ready, with its reason when it is not.
            let ready = health.conditions[.ready]
            let badge = ready.map { $0.isTrue ? Badge("ready", .ok) : Badge("not ready (\($0.reason)): \($0.message)", .bad) } ?? Badge("starting", .idle)
            repositories.append(.init(name: name, health: badge,
                                      lastRun: last.map { RunRow($0, repositoryName: name) }, problems: problems))
            for m in health.held.values.sorted(by: { $0.ref < $1.ref }) {
                held.append(.init(repository: name, ref: m.ref, head: CommitID(m.head).short, fullHead: m.head, reason: m.reason,
                                  since: Format.timestamp(m.since), approve: m.awaitingApproval && actionToken != nil))
            }
        }
        return IndexView(repositories: repositories, held: held, runs: runRows(try store.runs(limit: 30)), models: try store.modelNames(),
                         notifications: try store.recentDeliveries(limit: 10).map(IndexView.Notification.init))
    }

    func repositoryView(_ watcher: any WatchedRepository) async throws -> RepositoryView {
        let health = await watcher.health
        let url = watcher.repository.url
        let model = try store.reports(kind: ReportRecord.gateKind, repository: url).last
            .map { try JSONDecoder().decode(GateReport.self, from: Data($0.content.utf8)).model }
        var environments: [RepositoryView.Environment] = []
        for (name, conditions) in health.environments.sorted(by: { $0.key < $1.key }) {
            let deployed = try model.flatMap { try store.deployedVersion(model: $0, environment: name) }
            let state = conditions[.inSync] ?? conditions[.deployed]
            environments.append(.init(name: name, version: deployed.map { .init(model: model ?? "", version: $0.version) },
                                      since: deployed.map { Format.timestamp($0.deployedAt) } ?? "–",
                                      state: state.map { Badge("\($0.kind.rawValue)=\($0.status.rawValue)", Icons.tone(runStatus: $0.status.rawValue)) } ?? Badge("unknown", .idle),
                                      detail: state.map { $0.isTrue ? "" : $0.message } ?? ""))
        }
        let chart = try model.map { name -> RepositoryView.Model in
            let view = ModelView(model: name, log: try store.promotions(model: name), versions: try store.modelVersions(model: name), deployedTo: [:], metric: nil,
                                 history: try RunCharts.gateHistory(model: name, store: store))
            return RepositoryView.Model(name: name, chart: view.chart)
        }
        return RepositoryView(name: watcher.repository.name, url: url, conditions: health.conditions.all.map { ConditionRow($0) },
                              environments: environments, previews: try store.previews(repository: url).map(RepositoryView.Preview.init),
                              model: chart, runs: runRows(try store.runs(repository: url, limit: 20)))
    }

    static func document(_ html: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=300"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// `GET /api/repositories/<name>/previews`: the repository's merge-request previews, oldest push first.
struct PreviewList: Encodable {
    let repository: String
    let previews: [RunStore.Preview]
}
