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
        let encoded = URLEncoding.component(promQL)
        let response: HTTPResponse
        do {
            response = try client.send(HTTPRequest(url: "\(url)/api/v1/query?query=\(encoded)", headers: [("Accept", "application/json")], timeout: 15))
        } catch {
            throw QueryError(description: "Prometheus at \(url) is unreachable: \(error)")
        }
        guard let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] else {
            throw QueryError(description: "Prometheus at \(url) answered \(response.status) without JSON")
        }
        guard json["status"] as? String == "success", let data = json["data"] as? [String: Any] else {
            throw QueryError(description: "Prometheus query '\(promQL)' failed: \(json["errorType"] ?? "error"): \(json["error"] ?? "HTTP \(response.status)")")
        }
        func number(_ pair: Any?) -> Double? {
            guard let pair = pair as? [Any], pair.count == 2, let text = pair[1] as? String else { return nil }
            return Double(text)
        }
        switch data["resultType"] as? String {
        case "vector": return (data["result"] as? [[String: Any]] ?? []).compactMap { number($0["value"]) }
        case "scalar": return number(data["result"]).map { [$0] } ?? []
        default: throw QueryError(description: "Prometheus query '\(promQL)' must give an instant vector or a scalar")
        }
    }
}
