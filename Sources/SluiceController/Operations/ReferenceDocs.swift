import FoundationEssentials
public import SluiceCore
import SluiceYAML

/// The reference generated from the code: `sluice explain` reads one `sluice.yaml` key;
/// `sluice reference` writes (or checks) the pages of the documentation site's Reference section.
public enum ReferenceDocs {
    /// `sluice.yaml`'s keys, from the schema compiled into the binary.
    public static func schema() throws -> SchemaReference {
        guard let root = try YAMLParser.parseDocument(SpecSchema.json, file: "sluice.schema.json") else {
            throw LoadError(message: "the sluice.yaml schema compiled into this binary is empty")
        }
        return SchemaReference(schema: root)
    }

    /// The generated pages by file name; `commands` is the command reference the CLI renders
    /// from its own argument parser.
    public static func pages(commands: String) throws -> [String: String] {
        [
            "sluice-yaml.md": ReferencePages.specPage(try schema()),
            "controller.md": ControllerConfigReference.page(),
            "conditions.md": ReferencePages.conditionsPage(),
            "metrics.md": ReferencePages.metricsPage(),
            "logs.md": LogField.page(),
            "events.md": NotificationEvents.page(),
            "commands.md": commands,
        ]
    }

    /// Writes the pages into `folder`.
    public static func write(_ pages: [String: String], to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, text) in pages {
            try Data(text.utf8).write(to: URL(fileURLWithPath: folder + "/" + name))
        }
    }

    /// The pages in `folder` that differ from (or lack) the generated ones.
    public static func stale(_ pages: [String: String], in folder: String) -> [String] {
        pages.keys.sorted().filter { name in
            FileManager.default.contents(atPath: folder + "/" + name).map { String(decoding: $0, as: UTF8.self) } != pages[name]
        }
    }
}
