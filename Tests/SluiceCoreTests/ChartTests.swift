import Foundation
import FoundationXML
import Testing
@testable import SluiceCore

/// The charts parsed as XML: well-formed, titled, every data point present where it belongs.
@Suite struct ChartTests {
    struct Element {
        var name: String
        var attributes: [String: String]
        var text = ""
    }

    /// Every element of `svg` in document order (fails the test when it is not well-formed XML).
    final class Collector: NSObject, XMLParserDelegate {
        var elements: [Element] = []
        var open: [Int] = []
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            elements.append(Element(name: name, attributes: attributes))
            open.append(elements.count - 1)
        }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) { open.removeLast() }
        func parser(_ parser: XMLParser, foundCharacters string: String) { if let i = open.last { elements[i].text += string } }
    }

    static func parse(_ svg: String) -> [Element] {
        let parser = XMLParser(data: Data(svg.utf8))
        let collector = Collector()
        parser.delegate = collector
        #expect(parser.parse(), "not well-formed: \(parser.parserError.map { "\($0)" } ?? "")")
        return collector.elements
    }

    static func yTicks(_ elements: [Element]) -> [Double] {
        elements.filter { $0.name == "text" && $0.attributes["text-anchor"] == "end" }.compactMap { Double($0.text) }
    }

    @Test func aMetricHistoryShowsEveryCandidateMarkedByVerdictWithTheBoundAndAnAxisThatStopsAtOne() {
        func report(_ run: Int64, _ decision: Verdict, _ accuracy: Double, production: Double?) -> GateReport {
            var row = GateReport.MetricRow(metric: "accuracy", slice: nil, candidate: accuracy, production: production, delta: nil,
                                           rule: "higher, min 0.85", passed: accuracy >= 0.85, reason: "")
            row.min = 0.85
            return GateReport(model: "iris", repository: "r", ref: "refs/heads/main", commit: "c\(run)", run: run, policy: "p.yaml",
                              decision: decision, passed: decision == .promote, production: nil, metrics: [row], dataChecks: [], stages: [],
                              datasetVersions: [:], parameters: [:], artifacts: [], deployChanges: nil, notes: [])
        }
        let charts = MetricHistoryChart.charts([report(1, .promote, 0.93, production: nil), report(2, .reject, 0.71, production: 0.93),
                                                report(3, .promote, 0.97, production: 0.93)])
        #expect(charts.map(\.name) == ["accuracy"])
        let elements = Self.parse(charts[0].svg)
        #expect(elements.first { $0.name == "title" }?.text == "accuracy per candidate")
        #expect(elements.first { $0.name == "desc" }?.text.contains("candidates: 3 point(s) from 0.71 to 0.97") == true)
        let points = elements.filter { $0.attributes["data-series"] == "candidates" }
        #expect(points.map { $0.attributes["data-y"] } == ["0.93", "0.71", "0.97"])
        #expect(points.map { $0.attributes["data-marker"] } == ["dot", "cross", "dot"], "the rejected candidate is a cross, not only another colour")
        #expect(elements.contains { $0.name == "text" && $0.text == "minimum 0.85" })
        let ticks = Self.yTicks(elements)
        #expect(ticks.max() == 1 && ticks.min()! <= 0.71, "the axis fits the data and stops at 1: \(ticks)")
    }

    @Test func aConfusionMatrixCountsEachPairOfTheData() throws {
        let csv = "actual,predicted\na,a\na,b\nb,b\nb,b\n\"c, d\",a\n"
        let table = try PlotTable.delimited(Array(csv.utf8), file: "confusion.csv", separator: UInt8(ascii: ","))
        let spec = PlotSpec(file: "confusion.csv", x: "actual", y: "predicted", template: .confusion, title: "Confusion",
                            location: SourceLocation(file: "sluice.yaml", line: 1, column: 1))
        let data = try PlotData.make(spec, stage: "evaluate", table: table)
        let elements = Self.parse(PlotChart.svg(data, candidateName: "run 2", baseline: nil, baselineName: ""))
        let cells = elements.filter { $0.attributes["data-count"] != nil }
        #expect(cells.count == 9, "a cell for every pair of the three labels")
        func count(_ a: String, _ p: String) -> String? { cells.first { $0.attributes["data-actual"] == a && $0.attributes["data-predicted"] == p }?.attributes["data-count"] }
        #expect(count("a", "a") == "1" && count("a", "b") == "1" && count("b", "b") == "2" && count("c, d", "a") == "1" && count("b", "a") == "0")
        #expect(elements.contains { $0.name == "text" && $0.text == "2" }, "the count is written in the cell, not shown by shade alone")
    }

    @Test func aCurveOverProductionsHasEveryRowAndLeavesOutWhatIsNotANumberWithItsLine() throws {
        let spec = PlotSpec(file: "roc.csv", x: "fpr", y: "tpr", location: SourceLocation(file: "sluice.yaml", line: 1, column: 1))
        let candidate = try PlotData.make(spec, stage: "evaluate", table: try PlotTable.delimited(Array("fpr,tpr\n0,0\n0.1,0.8\noops,0.9\n1,1\n".utf8),
                                                                                                   file: "roc.csv", separator: UInt8(ascii: ",")))
        #expect(candidate.points.count == 3)
        #expect(candidate.warnings == ["roc.csv:4: 'oops' in column 'fpr' is not a number; the row is left out"])
        let production = try PlotData.make(spec, stage: "evaluate", table: try PlotTable.delimited(Array("fpr\ttpr\n0\t0\n0.3\t0.7\n1\t1\n".utf8),
                                                                                                    file: "roc.tsv", separator: UInt8(ascii: "\t")))
        let elements = Self.parse(PlotChart.svg(candidate, candidateName: "run 4", baseline: production, baselineName: "production (run 2)"))
        let lines = elements.filter { $0.name == "polyline" }
        #expect(lines.map { $0.attributes["data-series"] } == ["run 4", "production (run 2)"])
        #expect(lines.map { $0.attributes["data-points"] } == ["3", "3"])
        #expect(elements.filter { $0.attributes["data-series"] == "run 4" && $0.attributes["data-x"] != nil }.map { $0.attributes["data-y"] } == ["0.0", "0.8", "1.0"])
        #expect(Self.yTicks(elements).max() == 1)
    }

    @Test func longCurvesAreOnePolylineWithEveryPoint() throws {
        let rows = (0..<10_000).map { "\(Double($0) / 10_000),\(sin(Double($0) / 500))" }.joined(separator: "\n")
        let spec = PlotSpec(file: "loss.csv", location: SourceLocation(file: "sluice.yaml", line: 1, column: 1))
        let data = try PlotData.make(spec, stage: "train", table: try PlotTable.delimited(Array(("step,loss\n" + rows).utf8), file: "loss.csv",
                                                                                          separator: UInt8(ascii: ",")))
        let elements = Self.parse(PlotChart.svg(data, candidateName: "run 1", baseline: nil, baselineName: ""))
        let line = try #require(elements.first { $0.name == "polyline" })
        #expect(line.attributes["points"]?.split(separator: " ").count == 10_000)
        let ticks = Self.yTicks(elements)
        #expect(ticks.min()! <= -1 && ticks.max()! >= 1 && ticks.min()! >= -1.5, "the axis fits the data, not 0...1: \(ticks)")
    }

    @Test func badPlotDataSaysWhereAndWhatToDo() throws {
        #expect(throws: PlotTable.Problem.self) { try PlotTable.delimited(Array("a,b\n1,2,3\n".utf8), file: "p.csv", separator: UInt8(ascii: ",")) }
        do {
            _ = try PlotTable.delimited(Array("a,b\n1,2,3\n".utf8), file: "p.csv", separator: UInt8(ascii: ","))
        } catch {
            #expect(error.description == "p.csv:2: 3 fields, but the header names 2 columns")
        }
        let table = try PlotTable.delimited(Array("a,b\n1,2\n".utf8), file: "p.csv", separator: UInt8(ascii: ","))
        let spec = PlotSpec(file: "p.csv", x: "fpr", location: SourceLocation(file: "sluice.yaml", line: 1, column: 1))
        do {
            _ = try PlotData.make(spec, stage: "s", table: table)
            Issue.record("a missing column is refused")
        } catch {
            #expect(error.description == "p.csv has no column 'fpr' (its x); its columns: a, b")
        }
        let many = "x,y\n" + String(repeating: "1,2\n", count: PlotTable.rowLimit + 1)
        do {
            _ = try PlotTable.delimited(Array(many.utf8), file: "big.csv", separator: UInt8(ascii: ","))
            Issue.record("more rows than the limit are refused")
        } catch {
            #expect(error.description.hasPrefix("big.csv: more than \(PlotTable.rowLimit) rows"))
        }
    }
}
