// swift-tools-version: 6.0
import PackageDescription

// Dependency direction: sluice (CLI) -> SluiceController -> adapters -> SluiceCore.
// Each C library is imported by exactly one adapter target.
let package = Package(
    name: "Sluice",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sluice", targets: ["sluice"]),
        .library(name: "SluiceCore", targets: ["SluiceCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: [
        // C libraries (Debian: libgit2-dev, libyaml-dev, libcurl4-openssl-dev).
        .systemLibrary(name: "CGit2", pkgConfig: "libgit2", providers: [.apt(["libgit2-dev"])]),
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        // Pure core: spec, validation, planner, cache keys. No I/O.
        .target(
            name: "SluiceCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto"), .product(name: "Mustache", package: "swift-mustache")],
            // The schema is compiled in: `sluice explain` and the reference read it from the binary.
            resources: [.embedInCode("Spec/sluice.schema.json")]
        ),

        // Adapters, one per outside thing.
        .target(name: "SluiceYAML", dependencies: ["CYAML", "SluiceCore"]),
        .target(name: "SluiceGit", dependencies: ["CGit2", "SluiceCore"]),
        .target(name: "SluiceHTTP", dependencies: ["CCurl", "SluiceCore"]),
        // Stage processes: spawn in their own process group, capture, time out, kill.
        .target(name: "CProcess"),
        .target(name: "SluiceRunner", dependencies: ["SluiceCore", "CProcess"]),
        // The run store (SQLite via GRDB, WAL, or PostgreSQL via postgres-nio) and the
        // content-addressed artifact store.
        .target(
            name: "SluiceStore",
            dependencies: ["SluiceCore", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log")]
        ),

        // The Kubernetes API: kubeconfig, discovery, server-side apply, health.
        .target(name: "SluiceKube", dependencies: ["SluiceCore", "SluiceHTTP", "SluiceYAML"]),
        // S3-compatible object storage for the artifact store (libcurl's SigV4 through SluiceHTTP).
        .target(name: "SluiceObjectStore", dependencies: ["SluiceCore", "SluiceHTTP", "SluiceStore", .product(name: "Crypto", package: "swift-crypto")]),

        // Prometheus HTTP API: live metrics that trigger retraining.
        .target(name: "SluicePrometheus", dependencies: ["SluiceHTTP"]),

        // Forges: merge-request comments and commit statuses (GitHub, GitLab, Gitea REST).
        .target(name: "SluiceForge", dependencies: ["SluiceHTTP", "SluiceCore"]),

        // The model registry: embedded (run store) or MLflow over REST.
        .target(name: "SluiceRegistry", dependencies: ["SluiceCore", "SluiceStore", "SluiceHTTP", "SluiceYAML", .product(name: "Crypto", package: "swift-crypto")]),

        // The controller's HTTP server: webhooks, /metrics, health, the web UI, the pod endpoint.
        // A driving adapter: it knows the controller only through `WatchedRepository`.
        .target(
            name: "SluiceServer",
            dependencies: ["SluiceCore", "SluiceStore", "SluiceHTTP", "SluiceRunner", "SluiceYAML", .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "Mustache", package: "swift-mustache"), .product(name: "Prometheus", package: "swift-prometheus"),
                           .product(name: "Logging", package: "swift-log"), .product(name: "CoreMetrics", package: "swift-metrics"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]
        ),

        // Connects adapters to the core: load a spec, plan a commit, run it, gate and promote it.
        .target(
            name: "SluiceController",
            dependencies: ["SluiceCore", "SluiceYAML", "SluiceGit", "SluiceRunner", "SluiceStore", "SluiceRegistry", "SluiceForge", "SluicePrometheus", "SluiceKube", "SluiceHTTP", "SluiceServer", "SluiceObjectStore",
                           .product(name: "Logging", package: "swift-log"), .product(name: "CoreMetrics", package: "swift-metrics"),
                           .product(name: "Metrics", package: "swift-metrics"), .product(name: "Prometheus", package: "swift-prometheus"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "Crypto", package: "swift-crypto")]
        ),

        // Thin CLI: parses arguments, calls SluiceController's operations, prints (.ci/check-imports
        // refuses any other Sluice module here).
        .executableTarget(
            name: "sluice",
            dependencies: [
                "SluiceController",
                "SluiceCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .target(name: "SluiceTestSupport", dependencies: ["SluiceCore", "CProcess"], path: "Tests/SluiceTestSupport", exclude: ["kube_emulator.py", "kube_kubelet.py", "browse.py", "notify_receiver.py", "s3_emulator.py"]),
        .testTarget(name: "SluiceCoreTests", dependencies: ["SluiceCore", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "SluiceYAMLTests", dependencies: ["SluiceYAML", "SluiceCore"]),
        .testTarget(name: "SluiceGitTests", dependencies: ["SluiceGit", "SluiceCore", "SluiceTestSupport"]),
        .testTarget(
            name: "SluiceHTTPTests",
            dependencies: ["SluiceHTTP", "SluiceTestSupport", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(
            name: "SluiceControllerTests",
            dependencies: ["SluiceController", "SluiceCore", "SluiceForge", "SluiceGit", "SluiceKube", "SluiceRunner", "SluiceStore", "SluiceRegistry", "SluiceYAML", "SluiceTestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "SluiceRunnerTests", dependencies: ["SluiceRunner", "SluiceCore", "SluiceTestSupport"]),
        .testTarget(name: "SluiceStoreTests", dependencies: ["SluiceStore", "SluiceCore", "SluiceTestSupport"]),
        .testTarget(name: "SluiceObjectStoreTests", dependencies: ["SluiceObjectStore", "SluiceStore", "SluiceCore", "SluiceTestSupport"]),
        .testTarget(name: "SluiceKubeTests", dependencies: ["SluiceKube", "SluiceTestSupport"]),
        // The controller's routes in process (HummingbirdTesting), with a controller built in the test.
        .testTarget(
            name: "SluiceServerTests",
            dependencies: ["SluiceServer", "SluiceController", "SluiceCore", "SluiceStore", "SluiceYAML", "SluiceTestSupport",
                           .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdTesting", package: "hummingbird"),
                           .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "Prometheus", package: "swift-prometheus")]
        ),
        .testTarget(name: "SluiceCLITests", dependencies: ["SluiceTestSupport", .product(name: "Crypto", package: "swift-crypto")]),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets (`bash Tests/Fuzz/run`): only in a build with SLUICE_FUZZ set, which passes
// -sanitize=fuzzer; libFuzzer supplies their main.
if Context.environment["SLUICE_FUZZ"] != nil {
    package.targets.append(.target(name: "FuzzSupport", path: "Tests/Fuzz/FuzzSupport"))
    for name in ["SpecFuzzer", "PolicyFuzzer", "SchemaFuzzer", "DataFuzzer", "WebhookFuzzer"] {
        package.targets.append(.executableTarget(name: name, dependencies: ["FuzzSupport", "SluiceCore", "SluiceYAML"], path: "Tests/Fuzz/\(name)",
                                                 swiftSettings: [.unsafeFlags(["-parse-as-library"])],
                                                 linkerSettings: [.unsafeFlags(["-sanitize=fuzzer"])]))
    }
}
