import Dispatch
import FoundationEssentials
public import SluiceCore
import SluiceServer
import SluiceYAML

/// The `validate-data` action: checks a data file against its schema and, given a
/// reference (the data that trained the production model, or a named file), measures
/// drift column by column.
public enum DataSetValidation {
    public struct Input: Sendable {
        /// Files on disk and the names to show for them (repository-relative).
        public var dataPath: String
        public var dataName: String
        public var schemaPath: String
        public var schemaName: String
        public var referencePath: String?
        public var referenceName: String?
        /// Why there is no reference although there is a production model (its data could not be had).
        public var referenceProblem: String?

        public init(dataPath: String, dataName: String, schemaPath: String, schemaName: String,
                    referencePath: String? = nil, referenceName: String? = nil) {
            self.dataPath = dataPath
            self.dataName = dataName
            self.schemaPath = schemaPath
            self.schemaName = schemaName
            self.referencePath = referencePath
            self.referenceName = referenceName
        }
    }

    /// Loads a schema file; a bad schema is a list of located diagnostics.
    public static func loadSchema(path: String, name: String) throws(DiagnosticsError) -> DataSchema {
        let data: [UInt8]
        do throws(LoadError) {
            guard let read = try WorkspaceFile.readLimited(path, shownAs: name, what: "schema") else {
                throw LoadError(message: "cannot read schema file '\(name)'")
            }
            data = read
        } catch {
            throw DiagnosticsError([.error(at: SourceLocation(file: name, line: 1, column: 1), error.message, hint: error.hint)])
        }
        let parsed: Node?
        do throws(YAMLError) { parsed = try YAMLParser.parseDocument([UInt8](data), file: name) } catch {
            throw DiagnosticsError([error.diagnostic])
        }
        guard let node = parsed else {
            throw DiagnosticsError([.error(at: SourceLocation(file: name, line: 1, column: 1), "the schema file is empty",
                                           hint: "declare 'columns: { name: { type: number } }'")])
        }
        let decoded = DataSchemaDecoder.decode(node, file: name)
        guard let schema = decoded.schema else { throw DiagnosticsError(decoded.diagnostics) }
        return schema
    }

    /// Writes the report's drift charts (each column's reference and current distributions, the
    /// most drifted first) into `folder` as `drift-data-<column>.svg`; returns their names.
    public static func writeCharts(_ report: ValidationReport, to folder: String) throws -> [String] {
        try RunCharts.write(RunCharts.drift([(stage: "data", report: report)]), to: folder)
    }

    public static func run(_ input: Input) throws -> ValidationReport {
        let schema = try loadSchema(path: input.schemaPath, name: input.schemaName)
        var notes: [String] = []
        // The reference and the data are read at the same time, one thread each.
        let slots = Slots(schema: schema, input: input)
        DispatchQueue.concurrentPerform(iterations: input.referencePath == nil ? 1 : 2) { i in
            if i == 0 { slots.readCurrent() } else { slots.readReference() }
        }
        var current = try slots.current.get()
        let reference = try slots.reference?.get()
        if reference == nil {
            notes.append(input.referenceProblem.map { "drift not measured: \($0)" }
                         ?? "no reference data (no production model yet and no 'reference' given): drift not measured")
        } else {
            current.finishProfiles()  // sorting is only needed for drift
            for (c, column) in schema.columns.enumerated() where column.drift && !column.type.isNumeric && current.categoryCounts(c) == nil {
                notes.append("column '\(column.name)' has more than \(CategoryCounts.limit) distinct values: drift not measured")
            }
        }
        let checks = current.checks()
        let drift = reference.map { DriftAnalysis.compare(reference: $0, current: current) } ?? []
        let verdict = (checks.map(\.verdict) + drift.map(\.verdict)).max() ?? .pass
        return ValidationReport(data: input.dataName, reference: input.referenceName, rows: current.rows, verdict: verdict,
                                checks: checks, drift: drift, notes: notes)
    }

    /// Results of the two reads; each slot is written by exactly one thread, read after both finish.
    private final class Slots: @unchecked Sendable {
        let schema: DataSchema
        let input: Input
        var current: Result<DataValidator, any Error> = .failure(CancellationError())
        var reference: Result<DataValidator, any Error>?

        init(schema: DataSchema, input: Input) {
            self.schema = schema
            self.input = input
        }

        func readCurrent() {
            current = Result {
                var v = DataValidator(schema: schema, dataFile: input.dataName)
                try DataFileReader.read(input.dataPath, displayName: input.dataName, into: &v)
                return v
            }
        }

        func readReference() {
            guard let path = input.referencePath else { return }
            let name = input.referenceName ?? path
            reference = Result {
                var v = DataValidator(schema: schema, dataFile: name, profileOnly: true)
                try DataFileReader.read(path, displayName: name, into: &v)
                v.finishProfiles()
                return v
            }
        }
    }
}
