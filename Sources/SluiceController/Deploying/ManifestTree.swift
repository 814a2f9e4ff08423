public import SluiceCore
import SluiceYAML

/// Reads a manifest's text (YAML or JSON) as a `FieldDiff.Tree`, for diffs by field path.
public enum ManifestTree {
    /// Nil when the text is not one YAML document: the diff then shows changed lines instead,
    /// which says as much (the manifests themselves were already checked when rendered).
    public static func parse(_ text: String) -> FieldDiff.Tree? {
        do {
            return try YAMLParser.parseDocument(Array(text.utf8), file: "manifest").map(FieldDiff.Tree.init)
        } catch {
            return nil
        }
    }
}
