import Foundation
import SluiceCore
import SluiceRunner
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A stage's log file: one line per output line, `<UTC time> <out|err|sluice> <text>`.
/// Lines arrive already masked. Written as they come, so `sluice logs --follow` and a
/// crash both see everything up to the last line.
final class StageLog: Sendable {
    let path: String
    private let fd: Mutex<Int32>

    init(path: String) throws {
        self.path = path
        let parent = String(path[..<path.lastIndex(of: "/")!])
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        let f = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard f >= 0 else { throw LoadError(message: "cannot write log file \(path): \(String(cString: strerror(errno)))") }
        fd = Mutex(f)
    }

    deinit { fd.withLock { _ = close($0) } }

    func write(_ line: LogLine) {
        let text = Self.format(line) + "\n"
        fd.withLock { f in
            _ = text.utf8CString.withUnsafeBufferPointer { Glibc.write(f, $0.baseAddress, $0.count - 1) }
        }
    }

    static func format(_ line: LogLine) -> String {
        "\(timestamp(line.time)) \(line.stream.rawValue) \(line.text)"
    }

    /// The last `lines` lines of a log, without their time stamps (`out text`, `err text`);
    /// reads at most the last 64 KiB. Empty when the log is gone.
    static func tail(_ path: String, lines: Int) -> [String] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { handle.closeFile() }
        let size = handle.seekToEndOfFile()
        handle.seek(toFileOffset: size > 65536 ? size - 65536 : 0)
        let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        return text.split(separator: "\n").suffix(lines).map { line in
            // `2026-11-29T18:41:22.123Z out text` -> `out text`
            let parts = line.split(separator: " ", maxSplits: 1)
            return String((parts.count == 2 ? parts[1] : line).prefix(300))
        }
    }

    /// RFC 3339 UTC with milliseconds.
    static func timestamp(_ t: Double) -> String {
        var seconds = time_t(t.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let millis = Int((t - t.rounded(.down)) * 1000)
        let ms = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(ms)Z"
    }
}
