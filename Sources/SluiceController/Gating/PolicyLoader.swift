import FoundationEssentials
public import SluiceCore
import SluiceYAML

/// Reads policy and metrics files (from disk or from a commit) into the gate's values,
/// with located errors.
public enum PolicyLoader {
    public static func policy(bytes: [UInt8], file: String) throws(DiagnosticsError) -> Policy {
        let node: Node?
        do throws(YAMLError) { node = try YAMLParser.parseDocument(bytes, file: file) } catch { throw DiagnosticsError([error.diagnostic]) }
        let decoded = PolicyDecoder.decode(node, file: file)
        guard let policy = decoded.policy else { throw DiagnosticsError(decoded.diagnostics) }
        return policy
    }

    public static func metrics(bytes: [UInt8], file: String) throws(DiagnosticsError) -> MetricSet {
        let node: Node?
        do throws(YAMLError) { node = try YAMLParser.parseDocument(bytes, file: file) } catch {
            throw DiagnosticsError([.error(at: error.diagnostic.location, "\(file) is not valid JSON or YAML: \(error.diagnostic.message)")])
        }
        let read = MetricSet.read(node, file: file)
        guard let metrics = read.metrics else { throw DiagnosticsError(read.diagnostics) }
        return metrics
    }

    public static func read(_ path: String) throws(LoadError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(message: "cannot read '\(path)': no such file or not readable")
        }
        return [UInt8](data)
    }
}
