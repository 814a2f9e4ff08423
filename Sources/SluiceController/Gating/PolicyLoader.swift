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

    /// Where `error`'s value is written among metrics files (the last one that has it wins, as a
    /// later stage's value does): the file and its place in it, as `describe` words it.
    public static func locate(_ error: MetricRange.OutOfRange, in files: [(path: String, bytes: [UInt8])],
                              describe: (_ index: Int, _ at: SourceLocation) -> String) -> MetricRange.OutOfRange {
        var error = error
        for (index, file) in files.enumerated().reversed() {
            let root: Node?
            do throws(YAMLError) { root = try YAMLParser.parseDocument(file.bytes, file: file.path) } catch {
                continue  // read once already; a file that no longer parses has no place to point at
            }
            guard let root, let at = MetricSet.location(of: error.metric, slice: error.slice, in: root) else { continue }
            error.source = describe(index, at)
            break
        }
        return error
    }

    public static func read(_ path: String) throws(LoadError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(message: "cannot read '\(path)': no such file or not readable")
        }
        return [UInt8](data)
    }
}
