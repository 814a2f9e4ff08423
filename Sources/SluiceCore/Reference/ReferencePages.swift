/// The generated reference: `sluice explain` prints one schema entry as text; `sluice reference`
/// writes these pages into the documentation site, and a test checks the committed pages equal
/// what the code generates, so the reference cannot drift from the code.
public enum ReferencePages {
    /// One `sluice.yaml` key, for a terminal (as `kubectl explain` prints a field).
    public static func explain(_ entry: SchemaReference.Entry) -> String {
        var out = "KEY:       \(entry.path)\nTYPE:      \(entry.type)\n"
        if entry.required { out += "REQUIRED:  yes\n" }
        if let value = entry.defaultValue { out += "DEFAULT:   \(value)\n" }
        for c in entry.constraints { out += "MUST:      \(c)\n" }
        for e in entry.examples { out += "EXAMPLE:   \(e)\n" }
        if let d = entry.description { out += "\nDESCRIPTION:\n" + wrap(d, indent: "    ") }
        if !entry.fields.isEmpty { out += "\nFIELDS:\n" + entry.fields.map { "    \($0)" }.joined(separator: "\n") + "\n" }
        return out
    }

    /// `sluice.yaml`: every key, in the schema's order.
    public static func specPage(_ reference: SchemaReference) -> String {
        var out = """
        # `sluice.yaml` reference

        Generated from the JSON Schema `Sources/SluiceCore/Spec/sluice.schema.json` by `sluice reference`;
        `sluice explain <key path>` prints the same entry in a terminal. Editors that speak the YAML
        language server validate and complete `sluice.yaml` with that schema
        (`# yaml-language-server: $schema=<path to sluice.schema.json>` on the first line).

        `sluice validate` reports a wrong value with its place and what was expected, and the
        controller runs nothing of such a commit (`SpecValid=False`), e.g.
        `sluice.yaml:5:12: error: 'cache' of stage 'train' must be true or false, found a string`;
        an unknown key gets the nearest known one
        (`sluice.yaml:6:5: error: unknown key 'neds' in stage 'train'; did you mean 'needs'?`).


        """
        for entry in reference.entries {
            out += "## `\(entry.path)`\n\n"
            if let d = entry.description { out += d + "\n\n" }
            out += "- Type: `\(entry.type)`\n"
            if entry.required { out += "- Required\n" }
            if let value = entry.defaultValue { out += "- Default: `\(value)`\n" }
            for c in entry.constraints { out += "- Must be: \(markdownConstraint(c))\n" }
            for e in entry.examples { out += "- Example: `\(e)`\n" }
            if !entry.fields.isEmpty { out += "- Keys: " + entry.fields.map { "`\($0)`" }.joined(separator: ", ") + "\n" }
            out += "\n"
        }
        return out
    }

    /// Every condition type and reason, with what it means and what to do.
    public static func conditionsPage() -> String {
        var out = """
        # Conditions

        Generated from the code (`ConditionReason`) by `sluice reference`. The controller reports
        these per repository and per environment on `/readyz`, in `sluice status`, in the web UI and
        as the `sluice_condition` metric; each has a status (True, False, Unknown), a reason from
        this list and a message with the details. `Ready` is false with the reason of the first
        condition that is not true.


        """
        for kind in Condition.Kind.allCases {
            out += "## \(kind.rawValue)\n\n\(kind.summary)\n\n| Reason | Status | Meaning | What to do |\n|---|---|---|---|\n"
            for reason in ConditionReason.allCases where reason.kind == kind {
                out += "| `\(reason.rawValue)` | \(reason.status.rawValue) | \(reason.meaning) | \(reason.action ?? "") |\n"
            }
            out += "\n"
        }
        return out
    }

    /// Every metric on `/metrics`.
    public static func metricsPage() -> String {
        var out = """
        # Metrics

        Generated from the code (`ControllerMetric`) by `sluice reference`. `/metrics` serves them in
        the Prometheus text format; counters count what this controller process did since it started
        (use `rate()` and `increase()`). Hummingbird adds its HTTP metrics (`hb_requests`,
        `hb_request_errors`, `http_server_request_duration`).

        | Metric | Type | Labels | Meaning |
        |---|---|---|---|

        """
        for metric in ControllerMetric.allCases {
            out += "| `\(metric.rawValue)` | \(metric.kind.rawValue) | \(metric.labels.map { "`\($0)`" }.joined(separator: ", ")) | \(metric.help) |\n"
        }
        return out
    }

    /// Patterns in code spans (they hold `*`, `_` and `|`); nothing else needs escaping.
    private static func markdownConstraint(_ text: String) -> String {
        for lead in ["each matches ", "names match ", "matches "] where text.hasPrefix(lead) {
            return lead + "`" + text.dropFirst(lead.count) + "`"
        }
        return text
    }

    private static func wrap(_ text: String, indent: String, width: Int = 96) -> String {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty, line.count + word.count + 1 > width - indent.count { lines.append(line); line = "" }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines.map { indent + $0 }.joined(separator: "\n") + "\n"
    }
}
