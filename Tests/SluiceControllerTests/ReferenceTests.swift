import Foundation
import Testing
import SluiceController
import SluiceCore
import SluiceTestSupport

/// The generated reference and `sluice explain` read the code: every schema key is found by its
/// path, the controller configuration's entries are exactly the keys its decoder accepts, every
/// condition type has its reasons, and no metric is reported outside the catalogue.
@Suite struct ReferenceTests {
    /// The Swift files under `folder`, relative to it.
    static func swiftFiles(in folder: String) -> [String] {
        FileManager.default.enumerator(atPath: folder)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
    }

    @Test func everySchemaKeyIsFoundByItsPathAndByANamedPath() throws {
        let schema = try ReferenceDocs.schema()
        #expect(schema.entries.count > 100, "the schema has more keys than \(schema.entries.count): was it read whole?")
        for entry in schema.entries {
            #expect(try schema.entry(for: entry.path).get() == entry)
            // `stages.train.needs` is `stages.<name>.needs`; a list index is ignored.
            let named = entry.path.replacingOccurrences(of: "<name>", with: "train")
            #expect(try schema.entry(for: named).get() == entry, "\(named)")
        }
        #expect(try schema.entry(for: "environments[1].strategy.canary.steps").get().type == "list of integer")
        #expect(try schema.entry(for: "runner.kind").get().defaultValue == "\"local\"")
    }

    @Test func everySchemaKeyIsDescribed() throws {
        let undescribed = try ReferenceDocs.schema().entries.filter { $0.description == nil && !$0.path.hasSuffix("<name>") }.map(\.path)
        #expect(undescribed.isEmpty, "keys without a description in sluice.schema.json: \(undescribed)")
    }

    @Test func schemaKeysAreTheDecodersKeys() throws {
        let schema = try ReferenceDocs.schema()
        func keys(under path: String) throws -> Set<String> { Set(try schema.entry(for: path).get().fields) }
        #expect(Set(schema.topLevel.map(\.path)) == Set(SpecKeys.topLevel))
        #expect(try keys(under: "stages.x") == Set(SpecKeys.stage))
        #expect(try keys(under: "gate") == Set(SpecKeys.gate))
        #expect(try keys(under: "environments") == Set(SpecKeys.environment))
        #expect(try keys(under: "environments.strategy.canary.analysis.prometheus") == Set(SpecKeys.analysis))
    }

    @Test func anUnknownKeyNamesTheNearestAndWhereItLooked() throws {
        let schema = try ReferenceDocs.schema()
        guard case .failure(let error) = schema.entry(for: "stages.train.neds") else { Issue.record("found a key that does not exist"); return }
        #expect(error.description.contains("under stages.<name>"))
        #expect(error.description.contains("did you mean 'needs'?"))
        guard case .failure(let top) = schema.entry(for: "stage") else { Issue.record("found 'stage'"); return }
        #expect(top.description.contains("at the top level"), "\(top)")
        #expect(top.description.contains("did you mean 'stages'?"), "\(top)")
    }

    @Test func controllerReferenceListsExactlyTheAcceptedKeys() {
        let documented = ControllerConfigReference.entries.map(\.path)
        #expect(Set(documented).count == documented.count, "a key is documented twice")
        #expect(Set(documented) == Set(ControllerConfigReference.acceptedPaths),
                "documented but not accepted: \(Set(documented).subtracting(ControllerConfigReference.acceptedPaths)); accepted but not documented: \(Set(ControllerConfigReference.acceptedPaths).subtracting(documented))")
    }

    @Test func everyConditionTypeHasItsReasonsAndEveryFailureSaysWhatToDo() {
        for kind in Condition.Kind.allCases {
            #expect(ConditionReason.allCases.contains { $0.kind == kind }, "\(kind.rawValue) has no reason")
        }
        for reason in ConditionReason.allCases where reason.status == .false {
            #expect(reason.action != nil, "\(reason.rawValue) is a failure without what to do")
        }
    }

    /// Code that reports a metric names it from `ControllerMetric`, so the reference lists it.
    @Test func noMetricIsNamedOutsideTheCatalogue() throws {
        let root = RepositoryLayout.root() + "/Sources"
        let files = Self.swiftFiles(in: root)
        #expect(files.count > 100)
        var offenders: [String] = []
        for file in files where !file.hasSuffix("ControllerMetric.swift") {
            let text = try String(contentsOfFile: root + "/" + file, encoding: .utf8)
            if text.range(of: #""sluice_[a-z_]+""#, options: .regularExpression) != nil { offenders.append(file) }
        }
        #expect(offenders.isEmpty, "metric names written out instead of ControllerMetric cases in \(offenders)")
        for metric in ControllerMetric.allCases { #expect(Set(metric.labels).count == metric.labels.count, "\(metric.rawValue)") }
    }
}

extension ReferenceTests {
    /// Every field the code puts on a log line is in `LogField`, so the log reference lists it.
    @Test func everyLoggedFieldIsCatalogued() throws {
        let root = RepositoryLayout.root() + "/Sources"
        let files = Self.swiftFiles(in: root)
        let known = Set(LogField.allCases.map(\.rawValue))
        var found: Set<String> = []
        for file in files where !file.hasPrefix("SluiceKube/") {  // Kubernetes object fields, not log fields
            let text = try String(contentsOfFile: root + "/" + file, encoding: .utf8)
            for line in text.split(separator: "\n") where line.contains("metadata") || line.contains("Logger.Metadata") {
                for match in line.matches(of: /"([a-z_]+)": \.(string|stringConvertible)\(/) { found.insert(String(match.1)) }
                for match in line.matches(of: /metadataKey: "([a-z_]+)"/) { found.insert(String(match.1)) }
                for match in line.matches(of: /metadata\["([a-z_]+)"\] =/) { found.insert(String(match.1)) }
            }
        }
        #expect(found.count >= 8, "the scan found only \(found.sorted()): was the code read?")
        #expect(found.subtracting(known).isEmpty, "logged but not in LogField: \(found.subtracting(known).sorted())")
    }
}

extension ReferenceTests {
    /// Every route the HTTP server registers is documented on the endpoints page.
    @Test func everyRouteIsOnTheEndpointsPage() throws {
        let root = RepositoryLayout.root()
        let page = try String(contentsOfFile: root + "/docs/content/reference/http.md", encoding: .utf8)
        let folder = root + "/Sources/SluiceServer"
        let files = Self.swiftFiles(in: folder)
        var routes: [String] = []
        for file in files {
            let text = try String(contentsOfFile: folder + "/" + file, encoding: .utf8)
            for match in text.matches(of: /router\.(get|post|put|delete)\("([^"]*)"\)/) {
                routes.append(String(match.1).uppercased() + " " + (match.2.hasPrefix("/") ? "" : "/") + match.2)
            }
            for match in text.matches(of: /pods\.(get|post|put|delete)\("([^"]*)"\)/) { routes.append(String(match.1).uppercased() + " /pods/v1/" + match.2) }
        }
        #expect(routes.count >= 15, "found only \(routes)")
        let missing = routes.filter { !page.contains("`\($0)`") }
        #expect(missing.isEmpty, "routes not on docs/content/reference/http.md: \(missing)")
    }
}

extension ReferenceTests {
    /// The README's table of notification events is the code's, row for row.
    @Test func theReadmeListsEveryNotificationEvent() throws {
        let readme = try String(contentsOfFile: RepositoryLayout.root() + "/README.md", encoding: .utf8)
        let table = NotificationEvents.tableHeader + "\n" + NotificationEvents.tableRows.joined(separator: "\n") + "\n"
        #expect(readme.contains(table), "README.md's event table differs from NotificationEvent.Kind; copy it from docs/content/reference/events.md")
        #expect(NotificationEvents.tableRows.count == NotificationEvent.Kind.allCases.count)
    }

    /// Every event kind some code records is one the README, the reference and the routes know:
    /// and every kind is recorded somewhere (none documented but never sent).
    @Test func everyEventKindIsRecordedSomewhere() throws {
        let source = try String(contentsOfFile: RepositoryLayout.root() + "/Sources/SluiceCore/Notifications/EventSource.swift", encoding: .utf8)
        let unused = NotificationEvent.Kind.allCases.filter { kind in
            let name = "\(kind)"
            return !source.contains("." + name + ",") && !source.contains("." + name + ")") && !source.contains("(." + name)
        }
        #expect(unused.isEmpty, "event kinds no EventSource function makes: \(unused)")
    }

    /// `notify:` in the schema lists exactly the event types the code sends.
    @Test func theSchemaKnowsEveryEventType() throws {
        let entry = try ReferenceDocs.schema().entry(for: "notify.events").get()
        let expected = NotificationEvent.Kind.allCases.map(\.rawValue) + ["*"]
        #expect(entry.type == "list of one of: " + expected.joined(separator: ", "), "the schema's notify.events differs from the code's: \(entry.type)")
    }
}
