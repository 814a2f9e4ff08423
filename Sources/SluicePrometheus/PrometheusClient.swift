import Foundation
public import SluiceHTTP

/// Instant queries against the Prometheus HTTP API (`/api/v1/query`) through libcurl.
public struct PrometheusClient: Sendable {
    public let url: String
    let client: HTTPClient

    public struct QueryError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public init(url: String, client: HTTPClient = HTTPClient()) {
        var u = url
        while u.hasSuffix("/") { u.removeLast() }
        self.url = u
        self.client = client
    }

    /// The values of a PromQL instant query: one per series of a vector, or the scalar.
    public func query(_ promQL: String) throws(QueryError) -> [Double] {
        let data = try ask("query?query=\(URLEncoding.component(promQL))", promQL)
        switch data["resultType"] as? String {
        case "vector": return (data["result"] as? [[String: Any]] ?? []).compactMap { Self.number($0["value"]) }
        case "scalar": return Self.number(data["result"]).map { [$0] } ?? []
        default: throw QueryError(description: "Prometheus query '\(promQL)' must give an instant vector or a scalar")
        }
    }

    /// The values of a PromQL range query from `start` to `end` (seconds since 1970) every
    /// `step` seconds: one list per series, in time order (a series without data at a step has no value there).
    public func queryRange(_ promQL: String, start: Double, end: Double, step: Int) throws(QueryError) -> [[Double]] {
        let range = "start=\(Self.decimal(start))&end=\(Self.decimal(end))&step=\(step)"
        let data = try ask("query_range?query=\(URLEncoding.component(promQL))&\(range)", promQL)
        guard data["resultType"] as? String == "matrix" else {
            throw QueryError(description: "Prometheus range query '\(promQL)' must give a range vector (an instant vector expression)")
        }
        return (data["result"] as? [[String: Any]] ?? []).map { series in (series["values"] as? [Any] ?? []).compactMap(Self.number) }
    }

    /// The `data` of a successful answer to `/api/v1/<path>`.
    private func ask(_ path: String, _ promQL: String) throws(QueryError) -> [String: Any] {
        let response: HTTPResponse
        do {
            response = try client.send(HTTPRequest(url: "\(url)/api/v1/\(path)", headers: [("Accept", "application/json")], timeout: 15))
        } catch {
            throw QueryError(description: "Prometheus at \(url) is unreachable: \(error)")
        }
        let json: [String: Any]?
        do { json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] } catch {
            throw QueryError(description: "Prometheus at \(url) answered \(response.status) without JSON (\(error))")
        }
        guard let json else { throw QueryError(description: "Prometheus at \(url) answered \(response.status) without a JSON object") }
        guard json["status"] as? String == "success", let data = json["data"] as? [String: Any] else {
            throw QueryError(description: "Prometheus query '\(promQL)' failed: \(json["errorType"] ?? "error"): \(json["error"] ?? "HTTP \(response.status)")")
        }
        return data
    }

    /// The value of a `[time, "value"]` pair.
    private static func number(_ pair: Any?) -> Double? {
        guard let pair = pair as? [Any], pair.count == 2, let text = pair[1] as? String else { return nil }
        return Double(text)
    }

    private static func decimal(_ seconds: Double) -> String { String(format: "%.3f", seconds) }
}
