/// When a stage retrains on a clock: `every 24h` (an interval since it last ran) or a
/// five-field cron expression (`minute hour day-of-month month day-of-week`, in UTC;
/// `*`, numbers, `a-b` ranges, `,` lists and `/n` steps; Sunday is 0 or 7).
public enum Schedule: Hashable, Sendable, CustomStringConvertible {
    case every(seconds: Int)
    case cron(Cron)

    public var description: String {
        switch self {
        case .every(let s): return "every \(DurationText.format(seconds: s))"
        case .cron(let c): return "cron '\(c.text)'"
        }
    }

    public struct SyntaxError: Error, Hashable, Sendable {
        public var message: String
    }

    public static func parse(_ text: String) throws(SyntaxError) -> Schedule {
        let trimmed = text.trimmingWhitespace()
        if trimmed.hasPrefix("every ") {
            let amount = String(trimmed.dropFirst(6)).trimmingWhitespace()
            guard let seconds = DurationText.seconds(amount), seconds > 0 else {
                throw SyntaxError(message: "'\(amount)' is not a duration (write e.g. every 24h, every 30m)")
            }
            return .every(seconds: seconds)
        }
        return .cron(try Cron(trimmed))
    }

    /// Whether the stage is due: never ran, or a scheduled time fell after its last run
    /// (up to and including `now`). Times are Unix seconds.
    public func isDue(lastRun: Double?, now: Double) -> Bool {
        guard let lastRun else { return true }
        switch self {
        case .every(let seconds): return now - lastRun >= Double(seconds)
        case .cron(let cron): return cron.nextFire(after: lastRun).map { $0 <= now } ?? false
        }
    }

    public struct Cron: Hashable, Sendable {
        public let text: String
        let minutes: Set<Int>, hours: Set<Int>, days: Set<Int>, months: Set<Int>, weekdays: Set<Int>
        let anyDay: Bool, anyWeekday: Bool

        public init(_ text: String) throws(SyntaxError) {
            self.text = text
            let fields = text.split(separator: " ").map(String.init)
            guard fields.count == 5 else {
                throw SyntaxError(message: "'\(text)' is neither 'every <duration>' nor a five-field cron expression (minute hour day month weekday)")
            }
            minutes = try Self.field(fields[0], 0...59, "minute")
            hours = try Self.field(fields[1], 0...23, "hour")
            days = try Self.field(fields[2], 1...31, "day of month")
            months = try Self.field(fields[3], 1...12, "month")
            weekdays = Set(try Self.field(fields[4], 0...7, "day of week").map { $0 % 7 })
            anyDay = fields[2] == "*"
            anyWeekday = fields[4] == "*"
        }

        static func field(_ text: String, _ range: ClosedRange<Int>, _ what: String) throws(SyntaxError) -> Set<Int> {
            var values = Set<Int>()
            for part in text.split(separator: ",") {
                var base = String(part), step = 1
                if let slash = part.firstIndex(of: "/") {
                    base = String(part[..<slash])
                    guard let s = Int(part[part.index(after: slash)...]), s > 0 else {
                        throw SyntaxError(message: "bad step in cron \(what) field '\(text)'")
                    }
                    step = s
                }
                var lo = range.lowerBound, hi = range.upperBound
                if base != "*" {
                    let bounds = base.split(separator: "-")
                    guard (1...2).contains(bounds.count), let a = Int(bounds[0]), let b = Int(bounds.last!) else {
                        throw SyntaxError(message: "cron \(what) field '\(text)' is not a number, range, list or step")
                    }
                    (lo, hi) = (a, bounds.count == 2 || step > 1 ? (bounds.count == 2 ? b : range.upperBound) : a)
                }
                guard range.contains(lo), range.contains(hi), lo <= hi else {
                    throw SyntaxError(message: "cron \(what) field '\(text)' is outside \(range.lowerBound)-\(range.upperBound)")
                }
                values.formUnion(stride(from: lo, through: hi, by: step))
            }
            return values
        }

        /// The first minute strictly after `time` that matches, searched up to ~4 years ahead.
        public func nextFire(after time: Double) -> Double? {
            var t = (Int64(time) / 60 + 1) * 60
            for _ in 0..<(4 * 366 * 24 * 60) {
                let c = CivilTime(unix: t)
                if months.contains(c.month), matchesDay(c), hours.contains(c.hour), minutes.contains(c.minute) { return Double(t) }
                t += 60
            }
            return nil
        }

        /// Cron's rule: when both day fields are restricted, either may match.
        func matchesDay(_ c: CivilTime) -> Bool {
            switch (anyDay, anyWeekday) {
            case (true, true): return true
            case (false, true): return days.contains(c.day)
            case (true, false): return weekdays.contains(c.weekday)
            case (false, false): return days.contains(c.day) || weekdays.contains(c.weekday)
            }
        }
    }
}

/// UTC calendar fields of a Unix time (Howard Hinnant's civil-from-days algorithm).
struct CivilTime {
    var year: Int, month: Int, day: Int, hour: Int, minute: Int, weekday: Int

    init(unix t: Int64) {
        let days = Int(t >= 0 ? t / 86400 : (t - 86399) / 86400)
        let seconds = Int(t - Int64(days) * 86400)
        hour = seconds / 3600
        minute = seconds % 3600 / 60
        weekday = ((days % 7) + 11) % 7  // 1970-01-01 was a Thursday (4)
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = doy - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    }
}
