/// `sluice.schema.json`, compiled into the binary (SwiftPM's `embedInCode`), so `sluice explain`
/// and the generated reference read the schema the build was made with.
public enum SpecSchema {
    public static var json: [UInt8] { PackageResources.sluice_schema_json }
}
