import Testing
@testable import SluiceController
import SluiceCore
import SluiceYAML

@Suite struct WorkSlotsTests {
    /// Never more holders than the limit; waiters are served in the order they asked.
    @Test func boundsHoldersAndServesWaitersInOrder() async {
        let slots = WorkSlots(limit: 2, kind: "test")
        #expect(await slots.acquire())
        #expect(await slots.acquire())
        let order = Order()
        var waiters: [Task<Void, Never>] = []
        for i in 0..<5 {
            waiters.append(Task {
                #expect(await slots.acquire())
                await order.append(i)
            })
            // Each waiter is queued before the next one is started.
            while await slots.usage.waiting < i + 1 { await Task.yield() }
        }
        #expect(await slots.usage == (2, 5))
        for _ in 0..<5 {
            let served = await order.values.count
            await slots.release()
            while await order.values.count == served { await Task.yield() }
            #expect(await slots.usage.inUse == 2)
        }
        for w in waiters { await w.value }
        #expect(await order.values == [0, 1, 2, 3, 4])
        await slots.release()
        await slots.release()
        #expect(await slots.usage == (0, 0))
    }

    /// A task cancelled while it waits gets no slot, leaves the queue, and the next waiter
    /// is served instead.
    @Test func aCancelledWaiterLeavesTheQueue() async {
        let slots = WorkSlots(limit: 1, kind: "test")
        #expect(await slots.acquire())
        let cancelled = Task { await slots.acquire() }
        while await slots.usage.waiting < 1 { await Task.yield() }
        let next = Task { await slots.acquire() }
        while await slots.usage.waiting < 2 { await Task.yield() }
        cancelled.cancel()
        #expect(await cancelled.value == false)
        #expect(await slots.usage == (1, 1))
        await slots.release()
        #expect(await next.value == true)
        #expect(await slots.usage == (1, 0))
    }

    /// `run` gives the slot back when the body throws.
    @Test func runReleasesOnErrors() async throws {
        struct Boom: Error {}
        let slots = WorkSlots(limit: 1, kind: "test")
        await #expect(throws: Boom.self) { _ = try await slots.run { throw Boom() } }
        #expect(await slots.usage == (0, 0))
        #expect(try await slots.run { 7 } == 7)
    }

    @Test func parallelismIsConfiguredAndCheckedWithLocations() throws {
        let good = try YAMLParser.parseDocument("fetch-parallelism: 3\nrun-parallelism: 5\nrepositories: [{ name: a, url: /tmp/a }]\n", file: "c.yaml")
        let config = try #require(ControllerConfigDecoder.decode(good, file: "c.yaml").config)
        #expect(config.fetchParallelism == 3 && config.runParallelism == 5)
        let bad = try YAMLParser.parseDocument("run-parallelism: 0\nrepositories: [{ name: a, url: /tmp/a }]\n", file: "c.yaml")
        let decoded = ControllerConfigDecoder.decode(bad, file: "c.yaml")
        #expect(decoded.config == nil)
        #expect(decoded.diagnostics.map { "\($0.location.line):\($0.location.column) \($0.message)" } == ["1:18 'run-parallelism' must be at least 1"])
    }

    @Test func theLeaseDurationIsConfiguredAndCheckedWithItsLocation() throws {
        func decode(_ lease: String) throws -> (ControllerConfig.Lease?, [String]) {
            let node = try YAMLParser.parseDocument("lease: \(lease)\nrepositories: [{ name: a, url: /tmp/a }]\n", file: "c.yaml")
            let decoded = ControllerConfigDecoder.decode(node, file: "c.yaml")
            return (decoded.config?.lease, decoded.diagnostics.map { "\($0.location.line):\($0.location.column) \($0.message)" })
        }
        #expect(try decode("{ namespace: ns, name: l }").0 == ControllerConfig.Lease(namespace: "ns", name: "l", durationSeconds: 15))
        #expect(try decode("{ namespace: ns, name: l, duration: 1m }").0?.durationSeconds == 60)
        #expect(try decode("{ namespace: ns, name: l, duration: 2s }").1 == ["1:44 'lease.duration' must be at least 3s"])
        #expect(try decode("{ namespace: ns, name: l, duration: soon }").1 == ["1:44 'lease.duration': 'soon' is not a duration"])
    }
}

private actor Order {
    var values: [Int] = []
    func append(_ i: Int) { values.append(i) }
}
