// swift-tools-version:6.2
import Foundation
import PackageDescription

// dlib's HOG detector runs about 30% faster with AVX (and gives identical boxes). Every x86-64 CPU
// since 2011 has it, but some small boards (Celeron J-series, Atom) do not: build those with
// ROLLCALL_PORTABLE=1. Other architectures use the compiler's default.
#if arch(x86_64)
    let cpuFlags = ProcessInfo.processInfo.environment["ROLLCALL_PORTABLE"] == nil ? ["-mavx"] : []
#else
    let cpuFlags: [String] = []
#endif

// One set of Swift settings for every target (as Hummingbird does): Swift 6 mode, upcoming features
// on, and no warnings.
let swiftSettings: [SwiftSetting] = [
    .treatAllWarnings(as: .error),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "rollcall",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "rollcall", targets: ["rollcall"]),
        .library(name: "Vision", targets: ["Vision"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swiftcsv/SwiftCSV", from: "0.10.0"),
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.1"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // C++ (OpenCV) behind a plain C header: decoding, encoding and resizing images, the camera's
        // pixel conversion, video files, compositing. Always optimised, like the face core.
        .target(
            name: "CImaging",
            cxxSettings: [
                .unsafeFlags(["-O2", "-I/usr/include/opencv4"] + cpuFlags),
                .define("NDEBUG"),
            ],
            linkerSettings: [
                .linkedLibrary("opencv_core"),
                .linkedLibrary("opencv_imgproc"),
                .linkedLibrary("opencv_imgcodecs"),
                .linkedLibrary("opencv_videoio"),
                .linkedLibrary("opencv_video"),
                .linkedLibrary("opencv_calib3d"),
            ]
        ),
        // C++ (dlib) behind a plain C header, over CImaging's images. dlib's detector and network are
        // header templates compiled into this target, so it is always optimised: at -O0 a detection
        // takes seconds, which would make debug builds and the test suite useless.
        .target(
            name: "CVision",
            dependencies: ["CImaging"],
            cxxSettings: [
                .unsafeFlags(["-O2", "-I/usr/include/opencv4"] + cpuFlags),
                .define("NDEBUG"),
            ],
            linkerSettings: [
                .linkedLibrary("dlib"),
                .linkedLibrary("blas"),
                .linkedLibrary("lapack"),
                .linkedLibrary("opencv_core"),
                .linkedLibrary("opencv_imgproc"),
            ]
        ),
        // zbar, and the fourcc of its grey format (a function-like macro).
        .systemLibrary(
            name: "CZBar",
            pkgConfig: "zbar",
            providers: [.apt(["libzbar-dev"])]
        ),
        // zlib, to unpack the photos of a bulk enrollment's ZIP with bounds (Sources/HubServer/Web/ZIPLayout.swift).
        .systemLibrary(
            name: "CZlibInflate",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // libqrencode, to draw QR codes.
        .systemLibrary(
            name: "CQREncode",
            pkgConfig: "libqrencode",
            providers: [.apt(["libqrencode-dev"])]
        ),
        // Pixels in Swift: RGB and grey images (Swift owns the pixels), decoding, resizing, compositing, video
        // files; below both the camera (Capture) and the face core (Vision).
        .target(
            name: "Imaging",
            dependencies: ["CImaging"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Vision",
            dependencies: [
                "CVision",
                "Imaging",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Reading QR badges in grey frames (zbar): the door's, and `rollcall camera test --qr`.
        .target(
            name: "QRScanning",
            dependencies: ["CZBar", "Imaging"],
            swiftSettings: swiftSettings
        ),
        // Drawing QR codes as grey images (libqrencode): printed badges and the scenario's badge cards.
        .target(
            name: "QRDrawing",
            dependencies: ["CQREncode", "Imaging"],
            swiftSettings: swiftSettings
        ),
        // Enrollment from photos (one face, of enrollment quality, not someone else's): `rollcall enroll`
        // and the hub's enrollment, which links neither V4L2 nor zbar through it.
        .target(
            name: "Enrollment",
            dependencies: ["Imaging", "Recognition", "Vision"],
            swiftSettings: swiftSettings
        ),
        // libv4l2 and the V4L2 request codes Swift cannot import (variadic calls, function-like macros).
        .systemLibrary(
            name: "CV4L2",
            pkgConfig: "libv4l2",
            providers: [.apt(["libv4l-dev"])]
        ),
        // Frame sources: the V4L2 camera (reconnecting by itself), video files and image folders.
        .target(
            name: "Capture",
            dependencies: [
                "CV4L2",
                "Imaging",
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        // The matcher's 8-bit distance kernels (scalar, SSE4.2, AVX, AVX2, AVX-512BW, AVX-512 VNNI,
        // NEON), chosen at run time from what the CPU has. Built for the architecture's baseline (no
        // -mavx): each kernel carries its own target attribute. Always optimised.
        .target(
            name: "CMatch",
            cSettings: [.unsafeFlags(["-O2"]), .define("NDEBUG")]
        ),
        // Gallery and matcher (and later tracking and consensus). Swift over CMatch's kernels, no I/O.
        .target(
            name: "Recognition",
            dependencies: ["Attendance", "CMatch"],
            swiftSettings: swiftSettings + [.unsafeFlags(cpuFlags.flatMap { ["-Xcc", $0] })]
        ),
        // Signed QR badges: format, issuing, verification. Pure: no I/O, the time is a parameter.
        // Sealing data at rest (ChaCha20-Poly1305, a key outside the database): the hub's people
        // records and the door's cached gallery.
        .target(
            name: "Sealing",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Badges",
            dependencies: ["Attendance", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // Attendance rules: sessions, check-in windows, present/late, volunteer entry/exit.
        // Pure Swift, no I/O, the clock is a parameter.
        .target(
            name: "Attendance",
            swiftSettings: swiftSettings
        ),
        // The scenario video the tests and the replay benchmark run on, generated from the fixtures.
        .target(
            name: "Scenario",
            dependencies: ["Imaging", "Vision", "QRDrawing", "Badges"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "rollcall-scenario",
            dependencies: ["Scenario"],
            swiftSettings: swiftSettings
        ),
        // Frames to decisions: QR badges and faces (detect, track, gate, encode, match, agree), then
        // the attendance rules. Used by `rollcall replay` and by the daemon.
        .target(
            name: "Pipeline",
            dependencies: [
                "Attendance", "Badges", "Capture", "Enrollment", "Imaging", "QRScanning", "Recognition", "Vision",
            ],
            swiftSettings: swiftSettings
        ),
        // The device's durable store (SQLite through GRDB): the events queue, rejected scans for
        // audit, and the typed cache of what sync pulled (manifest, gallery, badge keys). Every event is
        // committed before the screen shows it.
        .target(
            name: "Outbox",
            dependencies: [
                "Attendance", "Recognition", "Sealing", "SyncProtocol",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The device API's wire types, shared by the device's sync client and the hub
        // (openapi/device-api.json describes the same). Pure Codable values.
        .target(
            name: "SyncProtocol",
            dependencies: ["Attendance", "Badges", "Recognition"],
            swiftSettings: swiftSettings
        ),
        // The reference central server's core: storage (one protocol; SQLite through GRDB first),
        // device tokens, the gallery's versions, and idempotent event ingestion.
        .target(
            name: "Hub",
            dependencies: [
                "Attendance", "Badges", "Recognition", "Sealing", "SyncProtocol",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "SwiftCSV", package: "SwiftCSV"),
            ],
            swiftSettings: swiftSettings
        ),
        // The hub's HTTP side (Hummingbird): the device API over `HubStorage`, and the staff web app
        // (accounts with bcrypt passwords, session cookies, pages from the mustache templates in
        // Sources/HubServer/Templates, kept as resource files); bulk enrollment reads a CSV (SwiftCSV) and a
        // ZIP of photos (ZIPFoundation, with the bytes unpacked through CZlibInflate).
        .target(
            name: "HubServer",
            dependencies: [
                "Hub", "SyncProtocol", "Attendance", "Recognition", "Badges", "CQREncode", "CZlibInflate",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "SwiftCSV", package: "SwiftCSV"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            resources: [.copy("Templates")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "rollcall-hub",
            dependencies: [
                "Hub", "HubServer", "SyncProtocol", "Attendance", "Recognition", "Enrollment", "Vision",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "SwiftCSV", package: "SwiftCSV"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        // The device's side of sync (AsyncHTTPClient): pushes the outbox, pulls manifest, gallery, keys.
        .target(
            name: "Sync",
            dependencies: [
                "Outbox", "Recognition", "SyncProtocol",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // libsystemd's sd_notify: readiness, status line, watchdog.
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        // The daemon under systemd: journal log lines with their priority, and sd_notify (ready, status,
        // watchdog, reloading, stopping).
        .target(
            name: "Systemd",
            dependencies: ["CSystemd", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The door's screen: the signage page (signage.html, built into the binary), the messages it shows
        // (a decision's greeting, the idle state), and the broadcaster that sends them to every open page.
        .target(
            name: "Signage",
            dependencies: ["Attendance", "Pipeline"],
            resources: [.embedInCode("signage.html")],
            swiftSettings: swiftSettings
        ),
        // The daemon: its configuration (TOML, validated key by key) and its services (door, sync,
        // signage page, watchdog) in one ServiceGroup, with systemd notification and journal logging.
        .target(
            name: "Kiosk",
            dependencies: [
                "Attendance", "Badges", "Capture", "Outbox", "Pipeline", "Recognition", "Signage", "Sync", "Systemd",
                "SyncProtocol", "Vision",
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // The technician CLI's commands live in a library so that tests can drive them.
        .target(
            name: "RollcallCLI",
            dependencies: [
                "Attendance",
                "Badges",
                "Capture",
                "Kiosk",
                "Outbox",
                "Enrollment",
                "Imaging",
                "Pipeline",
                "QRDrawing",
                "QRScanning",
                "Sync",
                "Systemd",
                "Recognition",
                "Vision",
                "SyncProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "rollcall",
            dependencies: [
                "RollcallCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // Where tests find fixtures and models, and how they fail when those are missing in CI.
        .target(
            name: "TestSupport",
            dependencies: ["Hub", "Recognition"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VisionTests",
            dependencies: ["Imaging", "Vision", "QRScanning", "QRDrawing", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RecognitionTests",
            dependencies: ["Recognition"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AttendanceTests",
            dependencies: ["Attendance"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "OutboxTests",
            dependencies: [
                "Outbox", "Attendance", "Badges", "Recognition", "Sealing", "SyncProtocol", "TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "InMemoryLogging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SyncProtocolTests",
            dependencies: ["SyncProtocol", "Attendance", "Badges", "Recognition", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HubTests",
            dependencies: [
                "Hub", "SyncProtocol", "Attendance", "Badges", "Recognition", "TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SyncTests",
            dependencies: [
                "Sync", "Outbox", "Hub", "HubServer", "SyncProtocol", "Attendance", "Badges", "Recognition",
                "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: swiftSettings
        ),
        // The door's decision step driven with made-up frame analyses (no models).
        .testTarget(
            name: "PipelineTests",
            dependencies: ["Pipeline", "Attendance", "Badges", "Enrollment", "Recognition", "Vision"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KioskTests",
            dependencies: [
                "Signage", "Systemd",
                "Kiosk", "Attendance", "Badges", "Capture", "Outbox", "Pipeline", "Recognition", "SyncProtocol",
                "TestSupport", "Vision",
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ScenarioTests",
            dependencies: ["Scenario", "Imaging", "Vision", "QRScanning", "Badges", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BadgesTests",
            dependencies: ["Badges", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CaptureTests",
            dependencies: ["Capture", "CV4L2", "Imaging", "QRScanning", "QRDrawing", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        // Runs the built `rollcall` executable as a technician would.
        .testTarget(
            name: "RollcallCLITests",
            dependencies: [
                "rollcall", "rollcall-hub", "Attendance", "Capture", "Hub", "Outbox", "Recognition", "SyncProtocol",
                "Vision",
                "Imaging", "QRScanning", "QRDrawing",
                "Scenario",
                "TestSupport",
                // Only to break a running hub's database underneath it (HubInternalErrorTests).
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            exclude: ["vivid"],
            swiftSettings: swiftSettings
        ),
    ],
    cxxLanguageStandard: .cxx17
)
