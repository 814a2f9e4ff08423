/// The PostgreSQL database that holds the run store instead of the state folder's SQLite file,
/// read from a `postgres://` URL the way libpq and MLflow's `--backend-store-uri` take it:
///
///     postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=verify-full&sslrootcert=/etc/ca.pem
///
/// Every command reads it from `SLUICE_DATABASE_URL` (`sluice watch` from the variable its
/// configuration's `store: { url-env: … }` names). The user and password may be percent-encoded.
/// `sslmode`: `disable`, `require` (encrypted, the server's certificate not checked) or
/// `verify-full` (the default: the certificate checked against the system's authorities, or
/// `sslrootcert`'s, and the host name against it).
public struct DatabaseSettings: Sendable, Hashable {
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        case disable, require
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    /// A PEM file of the authorities to trust for `verify-full` (nil: the system's).
    public var rootCertificate: String?

    public static let environmentVariable = "SLUICE_DATABASE_URL"

    public init(host: String, port: Int = 5432, user: String, password: String? = nil, database: String, tls: TLSMode = .verifyFull,
                rootCertificate: String? = nil) {
        (self.host, self.port, self.user, self.password, self.database) = (host, port, user, password, database)
        (self.tls, self.rootCertificate) = (tls, rootCertificate)
    }

    /// The URL without its password, for messages and logs.
    public var redacted: String {
        "postgres://\(user)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)?sslmode=\(tls.rawValue)"
    }

    /// The settings `variable` holds in `environment`; nil when it is unset or empty.
    public static func from(environment: [String: String], variable: String = environmentVariable) throws(LoadError) -> DatabaseSettings? {
        guard let url = environment[variable], !url.isEmpty else { return nil }
        return try parse(url, what: variable)
    }

    /// Reads a `postgres://` or `postgresql://` URL; `what` names where it came from in errors.
    public static func parse(_ url: String, what: String) throws(LoadError) -> DatabaseSettings {
        let hint = "e.g. postgres://sluice:PASSWORD@db.example:5432/sluice?sslmode=verify-full"
        func fail(_ message: String) -> LoadError { LoadError(message: "\(what): \(message)", hint: hint) }
        var rest = Substring(url)
        guard let scheme = rest.range(of: "://"), ["postgres", "postgresql"].contains(String(rest[..<scheme.lowerBound])) else {
            throw fail("not a postgres:// URL")
        }
        rest = rest[scheme.upperBound...]
        var query = Substring("")
        if let mark = rest.firstIndex(of: "?") { (rest, query) = (rest[..<mark], rest[rest.index(after: mark)...]) }
        guard let slash = rest.firstIndex(of: "/") else { throw fail("names no database (the path after the host)") }
        let authority = rest[..<slash]
        guard let database = percentDecoded(rest[rest.index(after: slash)...]), !database.isEmpty else {
            throw fail("names no database (the path after the host)")
        }
        var hostPort = authority
        var user = "", password: String?
        if let at = authority.lastIndex(of: "@") {
            hostPort = authority[authority.index(after: at)...]
            let credentials = authority[..<at]
            let colon = credentials.firstIndex(of: ":")
            let malformed = fail("the user or password holds a malformed %-escape (write %40 for @, %3A for :, %25 for %)")
            guard let name = percentDecoded(credentials[..<(colon ?? credentials.endIndex)]) else { throw malformed }
            if let colon {
                guard let secret = percentDecoded(credentials[credentials.index(after: colon)...]) else { throw malformed }
                password = secret
            }
            user = name
        }
        guard !user.isEmpty else { throw fail("names no user (postgres://USER:PASSWORD@HOST/DATABASE)") }
        var host = hostPort, port = 5432
        if let colon = hostPort.lastIndex(of: ":"), !hostPort.hasSuffix("]") {
            host = hostPort[..<colon]
            guard let p = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(p) else {
                throw fail("the port '\(hostPort[hostPort.index(after: colon)...])' is not a number from 1 to 65535")
            }
            port = p
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else { throw fail("names no host") }
        var settings = DatabaseSettings(host: String(host), port: port, user: user, password: password, database: database)
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1)
            let key = String(parts[0]), value = parts.count > 1 ? percentDecoded(parts[1]) ?? "" : ""
            switch key {
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    throw fail("sslmode '\(value)' is not one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                settings.tls = mode
            case "sslrootcert":
                settings.rootCertificate = value
            default:
                throw fail("the parameter '\(key)' is not one Sluice reads (sslmode, sslrootcert)")
            }
        }
        return settings
    }

    /// `%XX` sequences decoded as UTF-8; nil when one is malformed.
    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var i = text.utf8.startIndex
        let utf8 = text.utf8
        while i < utf8.endIndex {
            let byte = utf8[i]
            if byte == UInt8(ascii: "%") {
                let first = utf8.index(after: i)
                guard first < utf8.endIndex, utf8.index(after: first) < utf8.endIndex,
                      let value = UInt8(String(decoding: utf8[first...utf8.index(after: first)], as: UTF8.self), radix: 16) else { return nil }
                bytes.append(value)
                i = utf8.index(first, offsetBy: 2)
            } else {
                bytes.append(byte)
                i = utf8.index(after: i)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
