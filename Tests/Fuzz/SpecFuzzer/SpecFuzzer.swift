import FuzzSupport
import SluiceCore
import SluiceYAML

/// libFuzzer target: any bytes as `sluice.yaml` and as a controller configuration through
/// libyaml and the decoders. A crash, a trap or a hang is a bug; located errors are expected.
@_cdecl("LLVMFuzzerTestOneInput")
public func spec(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do throws(YAMLError) {
        let documents = try YAMLParser.parseStream(bytes, file: "sluice.yaml")
        _ = SpecDecoder.decode(documents.first, file: "sluice.yaml", paths: nil)
        _ = ControllerConfigDecoder.decode(documents.first, file: "controller.yaml")
    } catch {
        _ = error.diagnostic
    }
    return 0
}

@_cdecl("SpecFuzzer_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    driveFuzzer(argc, argv) { input, length in input.map { spec($0, length) } ?? 0 }
}
