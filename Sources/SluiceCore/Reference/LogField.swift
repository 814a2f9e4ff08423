/// Every field the controller's log lines carry besides the time, the level and the message:
/// what a log collector can filter on. A test checks the code logs no field missing here, and
/// the log reference page (`sluice reference`) is generated from this list.
public enum LogField: String, CaseIterable, Sendable {
    case repository, ref, commit, run, stages, status, verdict, model, environment, condition, reason, url, failures, forge, code, provider, event, id

    public var meaning: String {
        switch self {
        case .repository: "The repository's name in the configuration."
        case .ref: "The git ref a line is about: refs/heads/main, refs/pull/7/head."
        case .commit: "The commit, its first 12 characters."
        case .run: "The run's id (`sluice logs RUN`, `/runs/RUN`)."
        case .stages: "The stages a run starts with, comma-separated."
        case .status: "A run's status (succeeded, failed, cancelled), or a condition's (True, False, Unknown)."
        case .verdict: "The gate's verdict: promote, reject, report-only, could-not-evaluate."
        case .model: "The registered model's name."
        case .environment: "The environment a deploy, drift check or chain step is about."
        case .condition: "The condition that changed: Fetched, SpecValid, Ready, ..."
        case .reason: "The condition's reason (see the conditions reference)."
        case .url: "The repository's URL, on a failed fetch."
        case .failures: "Consecutive failed fetches of the repository."
        case .forge: "The forge a merge-request report went to: github, gitlab, gitea."
        case .code: "The forge's HTTP status code, or unreachable."
        case .provider: "The notification provider a delivery went to (its name in `notifications.providers`)."
        case .event: "A notification event's type: gate.rejected, environment.waiting-for-approval, ..."
        case .id: "A notification event's id (the CloudEvents `id`; what receivers de-duplicate on)."
        }
    }

    public static func page() -> String {
        var out = """
        # Log fields

        Generated from the code (`LogField`) by `sluice reference`. `sluice watch` writes one line per
        event on stderr: fetch failures, invalid specs (each located error), runs started and
        finished, verdicts, promotions, deploys, prunes, drift, self-heal, and each condition change
        (once, when it changes). Values of variables named like credentials (`*TOKEN`, `*SECRET`,
        `*PASSWORD`, `*KEY`, `*CREDENTIALS`) are masked in every field and message.

        `--log-format text` (the default) prints the time, the level, the fields as `key=value`
        sorted by key, and the message:

        ```text
        2026-11-29T18:41:22Z info commit=2f1c0a9e31b7 ref=refs/heads/main repository=iris run=4 verdict=promote: verdict promote: version 3 promoted
        ```

        `--log-format json` prints one JSON object per line with `time`, `level` and `msg` and the
        fields below, for a log collector:

        ```json
        {"commit":"2f1c0a9e31b7","level":"info","msg":"verdict promote: version 3 promoted","ref":"refs/heads/main","repository":"iris","run":"4","time":"2026-11-29T18:41:22Z","verdict":"promote"}
        ```

        | Field | Meaning |
        |---|---|

        """
        for field in allCases { out += "| `\(field.rawValue)` | \(field.meaning) |\n" }
        return out
    }
}
