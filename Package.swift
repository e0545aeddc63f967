// swift-tools-version:6.0
import PackageDescription

// Every C library enters through one shim target below and nowhere else. The libraries come from
// Debian packages (see scripts/bootstrap.sh), so each shim links the system library by name.
let package = Package(
    name: "presence-gateway",
    products: [
        .executable(name: "presence-gateway", targets: ["Gateway"]),
        .executable(name: "presence-bench", targets: ["PresenceBench"]),
    ],
    targets: [
        .target(name: "CLinux"),
        .target(name: "CLua", linkerSettings: [.linkedLibrary("lua5.4")]),
        .target(name: "CHiredis", linkerSettings: [.linkedLibrary("hiredis")]),
        .target(name: "COpenSSL", linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        .target(name: "CTOML", linkerSettings: [.linkedLibrary("stdc++")]),

        .target(name: "Observability", dependencies: ["CLinux"]),
        .target(name: "Transport", dependencies: ["CLinux", "COpenSSL", "Observability"]),
        .target(name: "PresenceCore"),
        .target(name: "LuaBridge", dependencies: ["CLua", "CLinux", "PresenceCore", "Observability"]),
        .target(name: "Redis", dependencies: ["CHiredis", "Transport", "PresenceCore", "Observability"]),
        .executableTarget(
            name: "Gateway",
            dependencies: [
                "Transport", "PresenceCore", "LuaBridge", "Redis", "Observability", "CTOML", "CLinux", "COpenSSL",
            ]
        ),

        // The load generator depends on no gateway module, so it stays light and measures only the wire.
        .executableTarget(name: "PresenceBench", dependencies: ["CLinux"]),

        .testTarget(name: "ObservabilityTests", dependencies: ["Observability"]),
        .testTarget(name: "TransportTests", dependencies: ["Transport"]),
        .testTarget(name: "PresenceCoreTests", dependencies: ["PresenceCore"]),
        .testTarget(name: "LuaBridgeTests", dependencies: ["LuaBridge", "PresenceCore", "Observability"]),
        .testTarget(name: "GatewayTests", dependencies: ["Gateway", "Transport", "PresenceCore"]),
        .testTarget(name: "RedisTests", dependencies: ["Redis", "Transport", "PresenceCore"]),
        .testTarget(name: "PresenceBenchTests", dependencies: ["PresenceBench"]),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx17
)
