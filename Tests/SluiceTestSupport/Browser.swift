import Foundation

/// Headless Chromium driven over the DevTools protocol (`browse.py`): pages loaded at an exact
/// viewport width, a script evaluated in each, full-page screenshots.
public enum Browser {
    public static var chromium: String? { ["chromium", "chromium-browser", "google-chrome"].first { ProcessRunner.has($0) } }

    public struct Page: Encodable {
        public var url: String
        public var width: Int
        public var height = 900
        /// Run once the page has loaded (e.g. to let a stage go on).
        public var after_load: [String]?
        /// A JavaScript condition to wait for (on DOM changes, at most 20 s).
        public var until: String?
        /// Evaluated last; its value (JSON-compatible) is returned.
        public var script: String?
        public var screenshot: String?

        public init(url: String, width: Int, afterLoad: [String]? = nil, until: String? = nil, script: String? = nil, screenshot: String? = nil) {
            self.url = url
            self.width = width
            self.after_load = afterLoad
            self.until = until
            self.script = script
            self.screenshot = screenshot
        }
    }

    struct Spec: Encodable {
        var chromium: String
        var pages: [Page]
    }

    /// Visits `pages` in one browser; per page, what its script returned (`value`), whether
    /// `until` held (`until`) and any script error (`error`).
    public static func visit(_ pages: [Page]) throws -> [[String: Any]] {
        let dir = TemporaryDirectory(prefix: "sluice-browse")
        let spec = dir.write("spec.json", String(decoding: try JSONEncoder().encode(Spec(chromium: chromium ?? "chromium", pages: pages)), as: UTF8.self))
        let r = try ProcessRunner.run("python3", [RepositoryLayout.root() + "/Tests/SluiceTestSupport/browse.py", spec])
        guard r.status == 0, let results = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]] else {
            throw NSError(domain: "Browser", code: 1, userInfo: [NSLocalizedDescriptionKey: "browse.py failed: \(r.stderr)\(r.stdout)"])
        }
        return results
    }

    /// What the layout checks read from a page: the viewport width, the document's scroll
    /// width, the elements that stick out of the viewport, the first heading and the text.
    public static let layoutScript = """
        JSON.stringify((() => {
          const vw = document.documentElement.clientWidth;
          const wide = [...document.querySelectorAll("body *")].filter((e) => {
            const r = e.getBoundingClientRect();
            return r.width > 0 && (r.right > vw + 0.5 || r.left < -0.5);
          }).map((e) => e.tagName.toLowerCase() + (e.className && typeof e.className === "string" ? "." + e.className : "") + " " + Math.round(e.getBoundingClientRect().right) + "px");
          const heading = document.querySelector("h1, h2, h3");
          // One word (a column header, a commit id, a version) broken over two lines ("Versi/on").
          const broken = [...document.querySelectorAll("th, td code, td .commit, td a")].filter((e) => {
            const text = e.textContent.trim();
            if (!text || /\\s/.test(text)) return false;
            const range = document.createRange();
            range.selectNodeContents(e);
            return new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top))).size > 1;
          }).map((e) => e.tagName.toLowerCase() + ": " + e.textContent.trim());
          return { vw, scrollWidth: document.documentElement.scrollWidth, wide: wide.slice(0, 8), broken: broken.slice(0, 8),
                   firstHeading: heading ? heading.tagName.toLowerCase() + ": " + heading.textContent.trim() : "", text: document.body.innerText,
                   emoji: /[\\u{1F300}-\\u{1FAFF}\\u{2705}\\u{274C}\\u{26A0}]/u.test(document.body.innerText) };
        })())
        """
}
