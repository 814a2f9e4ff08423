import FuzzSupport
import SluiceCore
import SluiceYAML

/// libFuzzer target: any bytes as a `validate-data` schema.
@_cdecl("LLVMFuzzerTestOneInput")
public func schema(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do throws(YAMLError) {
        if let node = try YAMLParser.parseDocument(bytes, file: "schema.yaml") { _ = DataSchemaDecoder.decode(node, file: "schema.yaml") }
    } catch {
        _ = error.diagnostic
    }
    return 0
}

@_cdecl("SchemaFuzzer_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    driveFuzzer(argc, argv) { input, length in input.map { schema($0, length) } ?? 0 }
}
