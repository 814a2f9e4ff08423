/// Runs blocking work (reading a large data file) on its own thread and awaits it.
public enum Offload {
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let result: Result<T, any Error> = await withCheckedContinuation { continuation in
            BlockingThread.start { continuation.resume(returning: Result { try body() }) }
        }
        return try result.get()
    }

    /// The same for work that cannot fail.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            BlockingThread.start { continuation.resume(returning: body()) }
        }
    }
}
