import Testing
import SluiceKube
import SluiceTestSupport
@testable import SluiceController

/// The stages of one run share one pair of watches, which stop with the last of them.
@Suite struct StageWatchRegistryTests {
    @Test func theStagesOfOneRunShareItsWatchesUntilTheLastIsDone() throws {
        // Nothing listens there: the watches only retry, which is all this test needs of them.
        let client = KubeClient(config: KubeConfig(server: "http://127.0.0.1:\(try FreePort.next())", namespace: "ml"))
        let registry = StageWatchRegistry()
        let run1 = try #require(StageWatches.selector(labels: ["sluice.dev/repository": "iris", "sluice.dev/run": "1"]))
        let run2 = try #require(StageWatches.selector(labels: ["sluice.dev/repository": "iris", "sluice.dev/run": "2"]))
        #expect(run1 == "sluice.dev/repository=iris,sluice.dev/run=1")
        #expect(StageWatches.selector(labels: ["sluice.dev/run": "1"]) == nil, "a Job without a repository label has no run selector")

        let first = registry.acquire(client: client, namespace: "ml", selector: run1)
        let second = registry.acquire(client: client, namespace: "ml", selector: run1)
        let other = registry.acquire(client: client, namespace: "ml", selector: run2)
        let elsewhere = registry.acquire(client: client, namespace: "staging", selector: run1)
        #expect(first === second)
        #expect(first !== other && first !== elsewhere)

        registry.release(client: client, namespace: "ml", selector: run1)
        #expect(registry.acquire(client: client, namespace: "ml", selector: run1) === first, "one stage of run 1 still runs")
        registry.release(client: client, namespace: "ml", selector: run1)
        registry.release(client: client, namespace: "ml", selector: run1)
        #expect(registry.acquire(client: client, namespace: "ml", selector: run1) !== first, "the last stage's release stopped them")
        for (namespace, selector) in [("ml", run1), ("ml", run2), ("staging", run1)] {
            registry.release(client: client, namespace: namespace, selector: selector)
        }
    }
}
