import FuzzSupport
import SluiceCore
import SluiceYAML

/// libFuzzer target: the bytes before the first NUL are a policy, the rest a candidate's
/// metrics file (and production's too); decoded, range-checked, gated and rendered.
@_cdecl("LLVMFuzzerTestOneInput")
public func policy(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let split = bytes.firstIndex(of: 0) ?? bytes.count
    let policyBytes = Array(bytes[..<split]), metricBytes = split < bytes.count ? Array(bytes[(split + 1)...]) : []
    do throws(YAMLError) {
        let policy = PolicyDecoder.decode(try YAMLParser.parseDocument(policyBytes, file: "p.yaml"), file: "p.yaml").policy
        let metrics = MetricSet.read(try YAMLParser.parseDocument(metricBytes, file: "m.json"), file: "m.json").metrics
        guard let policy, let metrics else { return 0 }
        do throws(MetricRange.OutOfRange) {
            try MetricRange.check(policy: policy, candidate: metrics, production: metrics)
        } catch {
            _ = error.description
            return 0
        }
        let evaluated = Gate.evaluate(policy: policy, candidate: metrics, production: Gate.Baseline(version: "1", metrics: metrics))
        let report = GateReport(model: "m", repository: "r", ref: nil, commit: "c", run: 1, policy: "p.yaml", decision: .reject, passed: false,
                                production: nil, metrics: evaluated.rows, dataChecks: [], stages: [], datasetVersions: [:], parameters: [:],
                                artifacts: [], notes: evaluated.notes)
        _ = GateReportMarkdown.render(report)
    } catch {
        _ = error.diagnostic
    }
    return 0
}

@_cdecl("PolicyFuzzer_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    driveFuzzer(argc, argv) { input, length in input.map { policy($0, length) } ?? 0 }
}
