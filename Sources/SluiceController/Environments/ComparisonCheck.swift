import FoundationEssentials
public import SluiceCore
import SluicePrometheus
import SluiceRunner
import SluiceStore

/// The versions a comparison may take as its baseline, as the environment chain knows them.
public struct Baselines: Sendable, Hashable {
    public struct Running: Sendable, Hashable {
        public var version: String
        /// The environment it runs in (`{{environment}}` of its query).
        public var environment: String
        public init(version: String, environment: String) {
            self.version = version
            self.environment = environment
        }
    }

    /// The version a canary runs beside.
    public var stable: Running?
    /// The registry's production version, in the last environment.
    public var production: Running?

    public init(stable: Running? = nil, production: Running? = nil) {
        self.stable = stable
        self.production = production
    }

    /// The registry's production version of `model`, running where `spec` deploys production
    /// (its last environment); nil when nothing is in production.
    static func production(model: String, spec: PipelineSpec, store: RunStore) throws -> Running? {
        guard let version = try store.productionVersion(model: model), let deploy = spec.deploy else { return nil }
        return Running(version: version, environment: deploy.environment)
    }

    subscript(_ kind: Comparison.Baseline) -> Running? {
        switch kind {
        case .stable: stable
        case .production: production
        }
    }
}

/// Runs a `compare:` check: `count` windows, the first the interval just before it starts, each
/// asked of Prometheus for both versions over the same range (`query_range`); then judged.
struct ComparisonCheck {
    let name: String
    let comparison: Comparison
    let model: String
    let version: String
    let environment: String
    let prometheusURL: String?

    func run(against baselines: Baselines) async -> EnvironmentChecks.Result {
        let c = comparison
        guard let url = c.url ?? prometheusURL, !url.isEmpty else {
            return .init(check: name, verdict: .inconclusive, detail: "no Prometheus to ask: set 'url' on the comparison or PROMETHEUS_URL for Sluice")
        }
        guard let base = baselines[c.baseline] else {
            // As the gate promotes a first model: nothing runs that it could be worse than.
            return .init(check: name, verdict: .passed, detail: "nothing to compare with: no \(c.baseline.rawValue) version runs")
        }
        let client = PrometheusClient(url: url)
        let query = c.query(model: model, version: version, environment: environment)
        let baselineQuery = c.query(model: model, version: base.version, environment: base.environment)
        var (samples, baselineSamples) = ([Double](), [Double]())
        for window in 0..<c.count {
            if window > 0 {
                do { try await Task.sleep(for: .seconds(c.intervalSeconds)) } catch {
                    return .init(check: name, verdict: .inconclusive, detail: "stopped after \(window) of \(c.count) windows (cancelled)")
                }
            }
            let end = WallClock.now()
            let start = end - Double(c.intervalSeconds - c.step)
            let step = c.step
            let asked: Result<([Double], [Double]), PrometheusClient.QueryError> = await Offload.run {
                do throws(PrometheusClient.QueryError) {
                    return .success((try client.queryRange(query, start: start, end: end, step: step).flatMap { $0 },
                                     try client.queryRange(baselineQuery, start: start, end: end, step: step).flatMap { $0 }))
                } catch {
                    return .failure(error)
                }
            }
            switch asked {
            case .success(let (mine, theirs)):
                samples += mine
                baselineSamples += theirs
                // Bounded: a query of many series would make every series' points samples.
                if max(samples.count, baselineSamples.count) > Comparison.maxSamples {
                    return .init(check: name, verdict: .inconclusive,
                                 detail: "\(query) gives more than \(Comparison.maxSamples) samples per version by window \(window + 1): aggregate it to one series (sum, avg, histogram_quantile)")
                }
            case .failure(let error):
                return .init(check: name, verdict: .inconclusive, detail: "window \(window + 1) of \(c.count): \(error)")
            }
        }
        let judgement = ComparisonJudge.judge(samples, baseline: baselineSamples, c)
        let series = ComparisonSeries(check: name, environment: environment, query: query, comparison: c, version: version, baseline: base.version,
                                      samples: samples, baselineSamples: baselineSamples, judgement: judgement)
        return .init(check: name, verdict: judgement.verdict, detail: series.summary, comparison: series)
    }
}
