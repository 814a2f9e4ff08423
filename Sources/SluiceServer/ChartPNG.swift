import FoundationEssentials
import SluiceRunner

/// PNG copies of the charts, for a forge or a viewer that will not show SVG: drawn from the SVG by
/// `rsvg-convert` (Debian's `librsvg2-bin`, installed in the controller image), never by Sluice.
enum ChartPNG {
    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    /// The PNG of `svg`, twice the chart's size for sharp text on high-density screens.
    static func render(_ svg: String, environment: [String: String]) throws -> [UInt8] {
        let folder = TemporaryFolder(under: FileManager.default.temporaryDirectory.path, prefix: "sluice-chart")
        try FileManager.default.createDirectory(atPath: folder.path, withIntermediateDirectories: true)
        defer { folder.remove() }
        try Data(svg.utf8).write(to: URL(fileURLWithPath: folder.path + "/chart.svg"))
        let result: Command.Result
        do {
            result = try Command.run(["rsvg-convert", "--format", "png", "--zoom", "2", "--background-color", "white",
                                      "--output", folder.path + "/chart.png", folder.path + "/chart.svg"],
                                     workingDirectory: folder.path, environment: environment, timeoutSeconds: 20)
        } catch {
            throw Unavailable(description: "PNG charts need rsvg-convert (apt-get install librsvg2-bin): \(error); the SVG is at the same address with .svg")
        }
        guard result.status == 0, let png = FileManager.default.contents(atPath: folder.path + "/chart.png") else {
            throw Unavailable(description: "rsvg-convert could not draw the chart: \(result.stderr.isEmpty ? result.summary : result.stderr)")
        }
        return [UInt8](png)
    }
}
