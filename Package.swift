// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "playcount",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "playcount", targets: ["playcount"]),
        .executable(name: "playcount-nsqd", targets: ["playcount-nsqd"]),
        .executable(name: "playcount-web", targets: ["playcount-web"]),
        .library(name: "NSQ", targets: ["NSQ"]),
        .library(name: "NSQBroker", targets: ["NSQBroker"]),
        .library(name: "PlayCounts", targets: ["PlayCounts"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // NSQ wire protocol: shared types, client codec, consumer, producer, lookupd discovery.
        .target(
            name: "NSQ",
            dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // The embedded nsqd-compatible broker (TCP protocol V2 + HTTP API + lookupd endpoints).
        .target(
            name: "NSQBroker",
            dependencies: [
                "NSQ",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        // One open-addressing table of dense arrays, for per-video values and the set of committed message keys.
        .target(name: "DenseTables"),
        // The domain, without networking: plays and their parsing, the publish policy (pure, clocked), the
        // processor, stats and the lower bound, audit.
        .target(
            name: "PlayCounts",
            dependencies: [
                "DenseTables",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // Where calls go: stdout, a file, a webhook (http:// or https:// through async-http-client).
        .target(
            name: "PlayClients",
            dependencies: [
                "PlayCounts",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Load generation: seed plans and distributions (zipf), traces, policy simulations and their random
        // numbers.
        .target(name: "PlayLoad", dependencies: ["PlayCounts"]),
        // Durable processor state (counts, published counts, committed message ids, outbox) in SQLite via GRDB.
        .target(
            name: "PlayState",
            dependencies: [
                "DenseTables", "PlayCounts", "NSQ",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        // A value behind a lock, shared by the pipeline and the shell.
        .target(name: "Locking"),
        // The running pipeline, without a face: NSQ consumer → ingest (exactly-once commit, FIN) → processor →
        // client, with dead letters, receipts and the embedded broker. The shell, `serve` and tests drive it.
        .target(
            name: "PlayService",
            dependencies: [
                "Locking", "NSQ", "NSQBroker", "PlayCounts", "PlayState",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The operations endpoints of a running service, on Hummingbird: /metrics (Prometheus text, from
        // swift-metrics through swift-prometheus), /healthz, /readyz, /status and /stats.
        .target(
            name: "PlayHTTP",
            dependencies: [
                "PlayService",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The web page client: the calls' feed (Server-Sent Events with replay and snapshots), the page itself (HTML,
        // CSS and JS from the binary) and a webhook receiver, as routes on Hummingbird.
        .target(
            name: "PlayWeb",
            dependencies: [
                "Locking", "PlayCounts",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // libedit, through its readline-compatible API, plus a tiny C shim for its mutable globals.
        .systemLibrary(
            name: "CEditLine",
            pkgConfig: "libedit",
            providers: [.apt(["libedit-dev"])]
        ),
        // Small C setters around libedit's mutable globals, which Swift 6 cannot touch directly.
        .target(name: "CEditLineShim", dependencies: ["CEditLine"]),
        // A generic control shell, knowing nothing of NSQ or plays: commands (ArgumentParser), settings, figures,
        // scripts, line editing (libedit), output, logs, Ctrl-C.
        .target(
            name: "ShellKit",
            dependencies: [
                "CEditLine",
                "CEditLineShim",
                "Locking",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // playcount's shell: its commands, settings and launcher on ShellKit, driving PlayService.
        .target(
            name: "PlayShell",
            dependencies: [
                "Locking",
                "NSQ",
                "NSQBroker",
                "PlayClients",
                "PlayCounts",
                "PlayHTTP",
                "PlayLoad",
                "PlayWeb",
                "PlayService",
                "PlayState",
                "ShellKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(name: "playcount", dependencies: ["PlayShell"]),
        // The embedded broker as a process of its own, spelled like nsqd (tests and benchmarks run it).
        .executableTarget(
            name: "playcount-nsqd",
            dependencies: [
                "NSQBroker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The web page as a service of its own: receives the webhook's calls and serves the page.
        .executableTarget(
            name: "playcount-web",
            dependencies: [
                "PlayCounts", "PlayHTTP", "PlayWeb",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Benchmarks that print figures (run by Scripts/bench-*), never timed tests.
        .executableTarget(
            name: "playcount-bench",
            dependencies: [
                "NSQ", "PlayClients", "PlayCounts", "PlayLoad", "PlayState",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),

        .testTarget(
            name: "NSQTests",
            dependencies: ["NSQ", "NSQBroker", .product(name: "NIOConcurrencyHelpers", package: "swift-nio"), .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio")]),
        .testTarget(
            name: "NSQBrokerTests",
            dependencies: ["NSQBroker", "NSQ", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")],
            exclude: ["Resources"]  // the nsqd transcripts, read by path in the golden tests
        ),
        .testTarget(
            name: "PlayCountsTests",
            dependencies: [
                "PlayCounts", "PlayClients", "PlayLoad", .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "MetricsTestKit", package: "swift-metrics"), .product(name: "CoreMetrics", package: "swift-metrics"), .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            exclude: ["Resources"]  // the test TLS certificate and key, read by path
        ),
        .testTarget(name: "PlayStateTests", dependencies: ["PlayState", "PlayCounts", "NSQ", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(
            name: "PlayShellTests",
            dependencies: [
                "Locking", "PlayShell", "PlayService", "PlayCounts", "ShellKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "PlayHTTPTests",
            dependencies: [
                "PlayHTTP", "PlayWeb", "PlayService", "PlayCounts", "PlayState", "NSQ", "NSQBroker",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(name: "PlayWebTests", dependencies: ["PlayWeb"]),
        .testTarget(
            name: "PlayServiceTests",
            dependencies: [
                "Locking", "PlayService", "PlayCounts", "PlayState", "NSQ", "NSQBroker",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]),
    ]
)
