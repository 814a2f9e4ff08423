/// The notification events, for the generated reference page and the README's table.
public enum NotificationEvents {
    /// One Markdown table row per event type: type, severity, when it is sent.
    public static var tableRows: [String] {
        NotificationEvent.Kind.allCases.map { "| `\($0.rawValue)` | \($0.severity.rawValue) | \($0.summary) |" }
    }

    public static let tableHeader = "| Event | Severity | Sent when |\n|---|---|---|"

    public static func page() -> String {
        """
        # Notification events

        Generated from the code (`NotificationEvent.Kind`) by `sluice reference`. The controller
        records each event in the run store in the same transaction as what caused it (a verdict,
        a run's end, a step down `environments:`, a condition's change), then delivers it to the
        providers whose routes match (`notifications:` in the [controller configuration](controller.md)).
        Gate, run and data events are those of the production branch; merge requests are reported
        on the forge.

        Every event has a stable `id` (derived from its cause: recorded twice, it is one event), a
        `time`, the `repository` (its configured name) and `repositoryURL` (without credentials),
        and where they apply the `model`, `version`, `environment`, `run` and `commit`; a
        `severity`; a `title` that leads with the outcome; `details` (failing rules with candidate
        and production values, drifted columns, a failed stage's last lines; masked like logs,
        at most 20 lines of 500 characters); and a `link` to the page that explains it.

        \(tableHeader)
        \(tableRows.joined(separator: "\n"))

        ## Formats

        | Provider `type` | Body | Headers |
        |---|---|---|
        | `slack` | `text` (the fallback) and Block Kit `blocks`: a header (≤ 150 characters), the details (≤ 3,000), the facts, a button to the page | `Content-Type: application/json` |
        | `msteams` | a `message` with one Adaptive Card (1.4) attachment: the title, the details, a FactSet, an `Action.OpenUrl` | `Content-Type: application/json` |
        | `googlechat` | `text` and a `cardsV2` card: header, details, facts, a button | `Content-Type: application/json` |
        | `webhook` | the event as JSON (the fields above, `type` its type) | `X-Sluice-Event`, `X-Sluice-Delivery` (stable across retries), `X-Sluice-Signature-256: sha256=<hex HMAC-SHA256 of the body with the secret>` |
        | `cloudevents` | binary mode: the event as JSON; structured mode: `{specversion, id, source, type, time, subject, datacontenttype, data}` | binary: `ce-specversion: 1.0`, `ce-id` (the event id), `ce-source` (the repository URL), `ce-type: dev.sluice.<type>`, `ce-time`, `ce-subject` (model/version/environment) |

        A delivery answered 2xx is done; 408, 425, 429 and 5xx (or no answer) are retried with
        exponential backoff from 2 s to 10 minutes, or after the `Retry-After` seconds, for
        `notifications.retry-for` (6 h); any other answer fails it at once. `sluice notifications`
        lists deliveries and what the receiver answered; `sluice_notifications_total{provider,result}`
        counts them.

        """
    }
}
