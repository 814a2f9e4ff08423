import FuzzSupport
import SluiceCore
import SluiceYAML

/// A schema with a column of every type, so every field parser and check sees the input.
let schema: DataSchema = {
    let text = """
        columns:
          n: { type: number, min: -1e6, max: 1e6 }
          i: { type: integer }
          s: { type: string, pattern: "[a-z]+", allowed: [a, b, c] }
          b: { type: boolean, nullable: true }
        """
    let node = try! YAMLParser.parseDocument(text, file: "schema.yaml")!  // a constant known to parse
    return DataSchemaDecoder.decode(node, file: "schema.yaml").schema!
}()

/// libFuzzer target: any bytes as a CSV data file, fed to the streaming parser in chunks cut
/// where the first byte says, then validated and profiled.
@_cdecl("LLVMFuzzerTestOneInput")
public func data(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    var validator = DataValidator(schema: schema, dataFile: "d.csv")
    var parser = CSVParser(delimiter: UInt8(ascii: ","))
    var sawHeader = false
    let chunk = max(1, Int(bytes.first ?? 7))
    var start = 0
    while start < size {
        let end = min(size, start + chunk)
        parser.feed(UnsafeRawBufferPointer(rebasing: bytes[start..<end]), { record, line in
            if sawHeader { validator.record(record, line: line) } else {
                sawHeader = true
                validator.header(record.strings(), line: line)
            }
        }, onError: { validator.malformed(line: $0.line, message: $0.message) })
        start = end
    }
    parser.finish({ record, line in if sawHeader { validator.record(record, line: line) } }, onError: { validator.malformed(line: $0.line, message: $0.message) })
    validator.finishProfiles()
    _ = validator.checks()
    return 0
}

@_cdecl("DataFuzzer_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    driveFuzzer(argc, argv) { input, length in input.map { data($0, length) } ?? 0 }
}
