import Foundation
import Hummingbird
import SluiceHTTP
import SluiceStore

/// A running run's logs, live: the page shows each stage's log as it was when rendered, and
/// `/runs/:id/events` streams what the stages write after that as server-sent events (`log`:
/// `{"stage", "text"}`; `end` once the run has finished, when the page reloads itself).
enum LiveLog {
    /// How much of a log the page shows.
    static let tailLines = 200
    /// Largest piece of one log sent per tick, so one chatty stage cannot hold the stream.
    static let chunk = 64 << 10

    static func tail(_ data: Data) -> String {
        String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).suffix(tailLines).joined(separator: "\n")
    }

    /// The events URL's query: each shown stage's log size (`train=1234&evaluate=0`).
    static func query(_ sizes: [(stage: String, size: Int)]) -> String {
        sizes.map { "\(URLEncoding.component($0.stage))=\($0.size)" }.joined(separator: "&")
    }

    /// The script the run page loads (the only one; CSP allows scripts from this server only).
    static let script = """
        // Appends what running stages write to their logs as the controller streams it
        // (server-sent events), and reloads the page once the run has finished.
        const logs = document.getElementById("logs");
        if (logs && logs.dataset.live) {
          const source = new EventSource(logs.dataset.live);
          source.addEventListener("log", (event) => {
            const { stage, text } = JSON.parse(event.data);
            let pre = [...logs.querySelectorAll("pre[data-stage]")].find((p) => p.dataset.stage === stage);
            if (!pre) {
              const heading = document.createElement("h3");
              heading.id = "log-" + stage;
              heading.textContent = stage;
              pre = document.createElement("pre");
              pre.dataset.stage = stage;
              logs.append(heading, pre);
            }
            const following = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
            pre.textContent += text;
            if (following) pre.scrollTop = pre.scrollHeight;
          });
          source.addEventListener("end", () => { source.close(); location.reload(); });
        }
        """

    /// Streams run `id`'s log growth from `offsets` until the run finishes, the client goes
    /// away, or an hour passes (the page then reconnects by reloading).
    static func stream(run id: Int64, offsets start: [String: Int], store: RunStore) -> ResponseBody {
        ResponseBody { writer in
            var offsets = start
            let deadline = Date().addingTimeInterval(3600)
            var quiet = 0
            while Date() < deadline {
                let finished = try store.run(id)?.status.isFinished ?? true
                var sent = false
                for stage in try store.stages(of: id) {
                    guard let path = stage.logPath, let text = read(path, from: offsets[stage.stage] ?? 0) else { continue }
                    offsets[stage.stage, default: 0] += text.count
                    let json = String(decoding: try JSONSerialization.data(withJSONObject: ["stage": stage.stage, "text": String(decoding: text, as: UTF8.self)]),
                                      as: UTF8.self)
                    try await writer.write(ByteBuffer(string: "event: log\ndata: \(json)\n\n"))
                    sent = true
                }
                if finished, !sent {
                    try await writer.write(ByteBuffer(string: "event: end\ndata: finished\n\n"))
                    break
                }
                quiet = sent ? 0 : quiet + 1
                if quiet >= 50 {  // a comment every ~15 s keeps proxies from closing an idle stream
                    try await writer.write(ByteBuffer(string: ": waiting\n\n"))
                    quiet = 0
                }
                try await Task.sleep(for: .milliseconds(300))
            }
            try await writer.finish(nil)
        }
    }

    /// Up to `chunk` bytes of `path` from `offset`, cut after the last complete line; nil when
    /// nothing new (or the file is not there yet).
    static func read(_ path: String, from offset: Int) -> Data? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { handle.closeFile() }
        handle.seek(toFileOffset: UInt64(offset))
        let data = handle.readData(ofLength: chunk)
        guard !data.isEmpty else { return nil }
        if data.count == chunk { return data }  // a full chunk goes as it is, lines or not
        guard let newline = data.lastIndex(of: UInt8(ascii: "\n")) else { return nil }
        return data.prefix(through: newline)
    }
}
