import Testing
@testable import SluiceCore

/// The per-repository `/metrics` series: one per condition (its current reason only), counts
/// by result, label values escaped, repositories in name order.
@Suite struct RepositorySeriesTests {
    func text(_ series: RepositorySeries) -> String {
        var bytes: [UInt8] = []
        series.emit(into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func aConditionKeepsOneSeriesWithItsCurrentReason() {
        let series = RepositorySeries()
        series.condition(repository: "iris", environment: "", Condition(.specValid, .false, reason: "InvalidSpec", message: "bad", at: 1))
        series.condition(repository: "iris", environment: "", Condition(.specValid, .true, reason: "Valid", message: "ok", at: 2))
        series.condition(repository: "iris", environment: "prod", Condition(.inSync, .false, reason: "Drifted", message: "", at: 3))
        let lines = text(series).split(separator: "\n").filter { $0.hasPrefix("sluice_condition{") }
        #expect(lines == [
            #"sluice_condition{repository="iris",environment="",type="SpecValid",status="True",reason="Valid"} 1"#,
            #"sluice_condition{repository="iris",environment="prod",type="InSync",status="False",reason="Drifted"} 1"#,
        ])
    }

    @Test func healthPollsAndRunsAreWrittenPerRepositoryInNameOrder() {
        let series = RepositorySeries()
        series.poll(repository: "b", healthy: false, consecutiveFailures: 3, lastSuccess: nil)
        series.poll(repository: "a", healthy: true, consecutiveFailures: 0, lastSuccess: 1_700_000_000.5)
        series.poll(repository: "a", healthy: true, consecutiveFailures: 0, lastSuccess: nil)  // keeps the last success
        series.runFinished(repository: "a", result: "succeeded")
        series.runFinished(repository: "a", result: "succeeded")
        series.runFinished(repository: "a", result: "failed")
        let text = text(series)
        for expected in [
            "# TYPE sluice_repository_healthy gauge\nsluice_repository_healthy{repository=\"a\"} 1\nsluice_repository_healthy{repository=\"b\"} 0\n",
            "sluice_reconcile_errors{repository=\"b\"} 3\n",
            "sluice_last_successful_poll_timestamp_seconds{repository=\"a\"} 1700000000.5\n",
            "# TYPE sluice_pipeline_runs_total counter\nsluice_pipeline_runs_total{repository=\"a\",result=\"failed\"} 1\n"
                + "sluice_pipeline_runs_total{repository=\"a\",result=\"succeeded\"} 2\n",
        ] {
            #expect(text.contains(expected), "\(expected) in \(text)")
        }
        #expect(!text.contains("sluice_last_successful_poll_timestamp_seconds{repository=\"b\"}"), "never polled successfully: no series")
        #expect(text.contains("# HELP sluice_condition 1 for a condition's current status"))
    }

    @Test func labelValuesAreEscaped() {
        let series = RepositorySeries()
        series.condition(repository: "a\"b\\c\nd", environment: "", Condition(.fetched, .true, reason: "Fetched", message: "", at: 1))
        #expect(text(series).contains(#"sluice_condition{repository="a\"b\\c\nd",environment="","#))
    }
}
