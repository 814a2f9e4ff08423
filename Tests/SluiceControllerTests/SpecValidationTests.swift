import Testing
import SluiceCore
import SluiceTestSupport
@testable import SluiceController

/// Every bad `sluice.yaml` gets located errors (file:line:col) and a useful hint.
@Suite struct SpecValidationTests {
    func check(_ text: String, paths: [String: PathKind]? = nil) -> SpecLoader.Result {
        SpecLoader.load(bytes: Array(text.utf8), file: "sluice.yaml", paths: paths.map { StaticPathLookup($0) })
    }

    func lines(_ r: SpecLoader.Result) -> [String] {
        DiagnosticRenderer.sorted(r.diagnostics).map(DiagnosticRenderer.line)
    }

    @Test func emptyFile() {
        let r = check("")
        #expect(r.spec == nil)
        #expect(lines(r) == ["sluice.yaml:1:1: error: the file is empty; start with 'version: 1' and a 'stages:' mapping"])
    }

    @Test func notAMapping() {
        #expect(lines(check("- a\n- b\n")) == ["sluice.yaml:1:1: error: the top level must be a mapping, found a list"])
        #expect(lines(check("just text\n")).first?.contains("must be a mapping, found a string") == true)
    }

    @Test func tabs() {
        let l = lines(check("version: 1\nstages:\n\ttest: {run: x}\n"))
        #expect(l.count == 1)
        #expect(l[0].hasPrefix("sluice.yaml:3:1: error:"))
        #expect(l[0].contains("indent with spaces"))
    }

    @Test func syntaxError() {
        let l = lines(check("version: 1\nstages: {test: {run: x}\n"))
        #expect(l.count == 1)
        #expect(l[0].hasPrefix("sluice.yaml:3:1: error:"))
    }

    @Test func unknownTopLevelKey() {
        let l = lines(check("version: 1\nstages: {t: {run: x}}\nstage: {}\n"))
        #expect(l == ["sluice.yaml:3:1: error: unknown key 'stage' at the top level; did you mean 'stages'?"].map {
            $0.replacingOccurrences(of: "at the top level", with: "in the top level")
        })
    }

    @Test func misspelledStageKeySuggestsTheRightOne() {
        let l = lines(check("version: 1\nstages:\n  lint: {run: x}\n  test:\n    run: pytest\n    need: [lint]\n"))
        #expect(l == ["sluice.yaml:6:5: error: unknown key 'need' in stage 'test'; did you mean 'needs'?"])
    }

    @Test func cycleIsPrintedInFull() {
        let text = """
        version: 1
        stages:
          a: { run: x, needs: [b] }
          b: { run: x, needs: [c] }
          c: { run: x, needs: [a] }
        """
        let l = lines(check(text))
        #expect(l.count == 1)
        #expect(l[0].hasPrefix("sluice.yaml:3:24: error: cycle in 'needs': a -> b -> c -> a"))
    }

    @Test func stageNeedingItself() {
        let l = lines(check("version: 1\nstages:\n  a: { run: x, needs: [a] }\n"))
        #expect(l == ["sluice.yaml:3:24: error: stage 'a' needs itself; remove 'a' from its 'needs'"])
    }

    @Test func unknownNeedsSuggestsAStage() {
        let l = lines(check("version: 1\nstages:\n  train: { run: x }\n  evaluate: { run: x, needs: trian }\n"))
        #expect(l == ["sluice.yaml:4:30: error: stage 'evaluate' needs unknown stage 'trian'; did you mean 'train'?"])
    }

    @Test func duplicateStageNames() {
        let l = lines(check("version: 1\nstages:\n  a: { run: x }\n  a: { run: y }\n"))
        #expect(l == ["sluice.yaml:4:3: error: duplicate key 'a' in 'stages'; first defined at 3:3"])
    }

    @Test func wrongTypesAndBadValues() {
        let text = """
        version: 1
        stages:
          a:
            run: {x: 1}
            timeout: soon
            cache: maybe
            env: { 1BAD: x, SLUICE_COMMIT: y, OK: [1] }
            outputs: [../escape, /abs]
          b: { uses: validate-date, with: { data: d.csv } }
        deploy: { manifests: m/, target: kubernets, namespace: Bad_NS }
        """
        let l = lines(check(text))
        #expect(l.contains("sluice.yaml:4:10: error: 'run' of stage 'a' must be a string, found a mapping"))
        #expect(l.contains("sluice.yaml:5:14: error: 'soon' is not a duration; write e.g. 90s, 30m, 1h30m or 2d"))
        #expect(l.contains("sluice.yaml:6:12: error: 'cache' of stage 'a' must be true or false, found a string"))
        #expect(l.contains { $0.hasPrefix("sluice.yaml:7:12: error: '1BAD' is not a valid environment variable name") })
        #expect(l.contains("sluice.yaml:7:21: error: 'SLUICE_COMMIT' is reserved: Sluice sets SLUICE_* variables itself"))
        #expect(l.contains("sluice.yaml:7:43: error: env value of 'OK' must be a string or number, found a list"))
        #expect(l.contains("sluice.yaml:8:15: error: output of stage 'a' must stay inside the repository, found '../escape'"))
        #expect(l.contains("sluice.yaml:8:26: error: output of stage 'a' must be relative to the repository root, found '/abs'"))
        #expect(l.contains("sluice.yaml:9:14: error: unknown built-in action 'validate-date' in stage 'b'; did you mean 'validate-data'?"))
        #expect(l.contains("sluice.yaml:10:34: error: unknown deploy target 'kubernets'; did you mean 'kubernetes'?"))
        #expect(l.contains { $0.hasPrefix("sluice.yaml:10:56: error: namespace 'Bad_NS' is not a valid Kubernetes name") })
    }

    @Test func missingReferencedFilesAreReported() {
        let text = """
        version: 1
        datasets: { iris: { path: data/iris.csv }, imgs: { dvc: data/images.dvc } }
        stages:
          v: { uses: validate-data, with: { data: data/iris.csv, schema: schemas/iris.yaml } }
        gate: { policy: policies/promotion.yaml }
        deploy: { manifests: manifests/ }
        """
        let l = lines(check(text, paths: ["data/iris.csv": .file, "manifests": .file]))
        #expect(l.contains("sluice.yaml:2:57: error: DVC file of dataset 'imgs' 'data/images.dvc' does not exist in the repository"))
        #expect(l.contains("sluice.yaml:4:66: error: 'schema' of stage 'v' 'schemas/iris.yaml' does not exist in the repository"))
        #expect(l.contains("sluice.yaml:5:17: error: policy file 'policies/promotion.yaml' does not exist in the repository"))
        #expect(l.contains("sluice.yaml:6:22: error: manifests folder 'manifests/' is a file, expected a directory"))
        #expect(!l.contains { $0.contains("data/iris.csv") })
    }

    @Test func allErrorsAreReportedAtOnce() {
        let text = "version: 2\nstages:\n  a: { rn: x }\n  b: { run: x, needs: [zz] }\nextra: 1\n"
        let r = check(text)
        #expect(r.diagnostics.filter { $0.severity == .error }.count == 5)
    }

    @Test func globsThatCannotMatch() {
        let l = lines(check("version: 1\nstages:\n  a: { run: x, when: { paths: [\"/src/**\", \"src**\", \"\"] } }\n"))
        #expect(l.count == 3)
        #expect(l.allSatisfy { $0.contains("cannot match") })
    }

    @Test func aValidSpecDecodesEveryField() throws {
        let text = """
        version: 1
        datasets:
          iris: { path: data/iris.csv }
          images: { dvc: data/images.dvc }
          raw: { dvc: dvc.lock, out: data/raw }
        stages:
          lint: { run: ruff check src, when: { paths: ["src/**"] } }
          train:
            run: [python, train.py, --lr, 0.1]
            needs: lint
            when: { datasets: [iris, images], paths: [params.yaml] }
            env: { SEED: 42 }
            timeout: 1h30m
            outputs: [./model/]
            params: [params.yaml, "params.yaml:train.lr"]
            cache: false
          evaluate: { run: python eval.py, needs: [train], metrics: metrics.json }
        gate: { policy: policies/promotion.yaml }
        deploy: { manifests: manifests/, target: kubernetes, namespace: ml, environment: staging }
        """
        let r = check(text)
        #expect(r.diagnostics.isEmpty, "\(r.diagnostics)")
        let spec = try #require(r.spec)
        #expect(spec.datasets.map(\.source) == [.path("data/iris.csv"), .dvcPointer("data/images.dvc"), .dvcLock(file: "dvc.lock", path: "data/raw")])
        let train = try #require(spec.stage(named: "train"))
        #expect(train.command == .argv(["python", "train.py", "--lr", "0.1"]))
        #expect(train.needs == ["lint"])
        #expect(train.when?.datasets == ["iris", "images"])
        #expect(train.env == [KeyValue("SEED", "42")])
        #expect(train.timeoutSeconds == 5400)
        #expect(train.outputs == ["model/"])
        #expect(train.params == [ParamRef(file: "params.yaml"), ParamRef(file: "params.yaml", keyPath: "train.lr")])
        #expect(train.cache == false)
        #expect(spec.stage(named: "evaluate")?.metrics == "metrics.json")
        #expect(spec.deploy?.target == .kubernetes)
        #expect(spec.deploy?.environment == "staging")
        #expect(spec.gate?.baseline == "production")
    }

    @Test func largeGeneratedSpecValidates() {
        // About 5 MB: 20,000 stages in a chain with triggers and env.
        var text = "version: 1\nstages:\n"
        for i in 0..<20_000 {
            text += "  stage\(i):\n    run: [python, step.py, --index, \"\(i)\", --mode, train-and-evaluate-with-a-long-argument]\n"
            text += "    when: { paths: [\"src/module\(i)/**\", \"configs/\(i).yaml\"] }\n"
            text += "    env: { INDEX: \"\(i)\", PURPOSE: a-long-value-to-bulk-the-file-up-to-realistic-size }\n"
            text += "    outputs: [out/\(i)/]\n"
            if i > 0 { text += "    needs: [stage\(i - 1)]\n" }
        }
        #expect(text.utf8.count > 5_000_000)
        let r = check(text)
        #expect(r.diagnostics.isEmpty)
        #expect(r.spec?.stages.count == 20_000)
    }
}
