#if canImport(Glibc)
import Glibc
#endif

/// The one clock of what Sluice records and schedules: run and stage times, promotion-log and
/// environment-step entries, condition transitions, soaks, sync intervals, approvals. Seconds
/// since 1970. Parts that tests drive through time take it as a closure defaulting to this
/// (`Promotion.clock`, `EnvironmentChain`'s `now`, the server's flood guard); timeouts use the
/// monotonic `ContinuousClock` instead, so a clock step does not end or stretch them.
public enum WallClock {
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
