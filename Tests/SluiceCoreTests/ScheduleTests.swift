import Testing
@testable import SluiceCore

@Suite struct ScheduleTests {
    // 2026-11-22T03:00:00Z is a Sunday.
    static let sunday3am = 1_795_316_400.0

    @Test func civilTimeMatchesKnownDates() {
        let c = CivilTime(unix: Int64(Self.sunday3am))
        #expect([c.year, c.month, c.day, c.hour, c.minute, c.weekday] == [2026, 11, 22, 3, 0, 0])
        let leap = CivilTime(unix: 951_782_400)  // 2000-02-29T00:00:00Z, a Tuesday
        #expect([leap.year, leap.month, leap.day, leap.weekday] == [2000, 2, 29, 2])
    }

    @Test func intervalsAreDueAfterTheirLength() throws {
        let s = try Schedule.parse("every 24h")
        #expect(s.isDue(lastRun: nil, now: 0))
        #expect(!s.isDue(lastRun: 0, now: 86_399))
        #expect(s.isDue(lastRun: 0, now: 86_400))
    }

    @Test func cronFiresAtTheNextMatchingMinute() throws {
        let daily = try Schedule.Cron("0 3 * * *")
        #expect(daily.nextFire(after: Self.sunday3am - 60) == Self.sunday3am)
        #expect(daily.nextFire(after: Self.sunday3am) == Self.sunday3am + 86_400)
        let weekdays = try Schedule.Cron("*/15 9-17 * * 1-5")
        #expect(weekdays.nextFire(after: Self.sunday3am) == Self.sunday3am + 86_400 + 6 * 3600)  // Monday 09:00
        let schedule = Schedule.cron(daily)
        #expect(!schedule.isDue(lastRun: Self.sunday3am, now: Self.sunday3am + 86_399))
        #expect(schedule.isDue(lastRun: Self.sunday3am, now: Self.sunday3am + 86_400))
    }

    @Test(arguments: ["0 25 * * *", "* * *", "every soon", "*/0 * * * *", "a * * * *"])
    func badSchedulesSayWhy(text: String) {
        #expect(throws: Schedule.SyntaxError.self) { _ = try Schedule.parse(text) }
    }

    @Test func liveMetricTriggersCompareStrictly() {
        let t = MetricTrigger(query: "acc", comparison: .below, threshold: 0.85)
        #expect(t.fires(on: [0.9, 0.84]))
        #expect(!t.fires(on: [0.85]))
        #expect(!t.fires(on: []))
    }
}
