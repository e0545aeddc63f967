import Foundation
import Observability
import XCTest

@testable import Gateway

final class ConfigTests: XCTestCase {
    /// Parses `text` and returns the error kind it raises, failing the test when it parses.
    private func errorKind(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> ConfigError.Kind? {
        do {
            _ = try GatewayConfig(toml: text, file: "test.toml")
            XCTFail("expected a configuration error for:\n\(text)", file: file, line: line)
            return nil
        } catch {
            return error.kind
        }
    }

    private func errorDescription(_ text: String) -> String {
        do {
            _ = try GatewayConfig(toml: text, file: "test.toml")
            return "(no error)"
        } catch {
            return error.description
        }
    }

    private func temporaryFile(_ contents: String) throws -> String {
        let path = NSTemporaryDirectory() + "config-test-\(UUID().uuidString)"
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    // MARK: Defaults

    func testEmptyFileGivesDefaults() throws {
        let config = try GatewayConfig(toml: "")
        XCTAssertEqual(config.server.listen.description, "127.0.0.1:8080")
        XCTAssertEqual(config.server.eventLoops, 0)
        XCTAssertEqual(config.server.maxMessageBytes, 65_536)
        XCTAssertEqual(config.server.pingIntervalMs, 10_000)
        XCTAssertEqual(config.server.pongTimeoutMs, 20_000)
        XCTAssertEqual(config.server.sendQueueBytes, 1_048_576)
        XCTAssertEqual(config.server.allowedOrigins, ["*"])
        XCTAssertEqual(config.server.echoPath, "")
        XCTAssertEqual(config.server.shutdownTimeoutMs, 5_000)
        XCTAssertEqual(config.server.maxDocumentsPerConnection, 32)
        XCTAssertFalse(config.server.binaryFrames)
        XCTAssertEqual(config.server.webRoot, "web")
        XCTAssertEqual(config.server.handshakeTimeoutMs, 10_000)
        XCTAssertEqual(config.server.maxConnections, 100_000)
        XCTAssertEqual(config.server.maxConnectionsPerIP, 1_000)
        XCTAssertEqual(config.server.messagesPerSecond, 100)
        XCTAssertEqual(config.server.maxJSONDepth, 32)
        XCTAssertFalse(config.server.tls.isEnabled)

        XCTAssertEqual(config.admin.listen.description, "127.0.0.1:9090")
        XCTAssertEqual(config.admin.token, "")

        XCTAssertEqual(config.log.level, .info)
        XCTAssertEqual(config.log.format, .text)

        XCTAssertEqual(config.metrics.namespace, "materi")
        XCTAssertTrue(config.metrics.perDocumentLabels)

        XCTAssertEqual(config.presence.cursorThrottleMs, 50)
        XCTAssertEqual(config.presence.typingDebounceMs, 500)
        XCTAssertEqual(config.presence.presenceTTLSeconds, 30)
        XCTAssertEqual(config.presence.activityTimeoutMs, 30_000)
        XCTAssertEqual(config.presence.awayTimeoutMs, 300_000)
        XCTAssertEqual(config.presence.maxUsersPerDocument, 1_000)
        XCTAssertEqual(config.presence.flushIntervalMs, 16)

        XCTAssertEqual(config.plugins.dir, "plugins")
        XCTAssertTrue(config.plugins.enabled)
        XCTAssertEqual(config.plugins.instructionLimit, 1_000_000)
        XCTAssertEqual(config.plugins.memoryLimitMB, 64)
        XCTAssertEqual(config.plugins.maxConsecutiveErrors, 20)
        XCTAssertEqual(config.plugins.reloadDebounceMs, 200)
        XCTAssertEqual(config.plugins.config, [:])

        XCTAssertTrue(config.redis.isEmbedded)
        XCTAssertEqual(config.redis.stream, "materi:events:presence")
        XCTAssertEqual(config.redis.streamMaxLength, 100_000)
        XCTAssertEqual(config.redis.nodeTimeoutMs, 10_000)
        XCTAssertEqual(config.redis.nodeID, "")
        XCTAssertEqual(config.redis.heartbeatIntervalMs, 2_000)

        XCTAssertEqual(config.auth.mode, .none)
        XCTAssertEqual(config.auth.jwtSecret, "")
        XCTAssertEqual(config.auth.jwtPublicKeyFile, "")
        XCTAssertEqual(config.auth.leewaySeconds, 30)
        XCTAssertEqual(config.auth.issuer, "")
        XCTAssertEqual(config.auth.audience, "")

        XCTAssertEqual(config, GatewayConfig.defaults)
    }

    func testShippedConfigDecodesToDefaults() throws {
        let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let path = repositoryRoot.appendingPathComponent("config.toml").path
        let config = try GatewayConfig.load(path: path)
        XCTAssertEqual(config, GatewayConfig.defaults)
    }

    func testShippedConfigListsEveryKnownKey() throws {
        let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOfFile: repositoryRoot.appendingPathComponent("config.toml").path, encoding: .utf8)
        var section = ""
        var written = Set<String>()
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("[") {
                section = String(trimmed.dropFirst().prefix { $0 != "]" })
            } else if !trimmed.hasPrefix("#"), let equals = trimmed.firstIndex(of: "=") {
                written.insert(section + "." + trimmed[..<equals].trimmingCharacters(in: .whitespaces))
            }
        }
        let paths = GatewayConfig.knownKeyPaths
        let tables = Set(paths.filter { path in paths.contains { $0.hasPrefix(path + ".") } })
        let known = Set(paths).subtracting(tables).subtracting(["plugins.config"])
        XCTAssertEqual(known.subtracting(written).sorted(), [])
        XCTAssertTrue(known.contains("server.tls.cert_file"))
    }

    func testOverridesAreDecoded() throws {
        let config = try GatewayConfig(
            toml: """
                [server]
                listen = "[::1]:0"
                event_loops = 4
                allowed_origins = ["https://docs.example.com", "http://localhost:3000"]
                echo_path = "/echo"
                binary_frames = true
                [log]
                level = "debug"
                format = "json"
                [presence]
                flush_interval_ms = 0
                """)
        XCTAssertEqual(config.server.listen, try ListenAddress(parsing: "[::1]:0"))
        XCTAssertTrue(config.server.listen.isIPv6)
        XCTAssertEqual(config.server.eventLoops, 4)
        XCTAssertEqual(config.server.allowedOrigins, ["https://docs.example.com", "http://localhost:3000"])
        XCTAssertEqual(config.server.echoPath, "/echo")
        XCTAssertTrue(config.server.binaryFrames)
        XCTAssertEqual(config.log.level, .debug)
        XCTAssertEqual(config.log.format, .json)
        XCTAssertEqual(config.presence.flushIntervalMs, 0)
    }

    // MARK: Syntax and unknown keys

    func testSyntaxErrorGivesLineAndColumn() throws {
        let kind = errorKind("[server]\nlisten = \"127.0.0.1:8080\"\n[log\n")
        guard case .syntax(let message) = kind else { return XCTFail("got \(String(describing: kind))") }
        XCTAssertTrue(message.hasPrefix("line 3, column 5"), message)
        XCTAssertTrue(errorDescription("[log\n").contains("test.toml is not valid TOML at line 1"))
    }

    func testDuplicateKeyIsSyntaxError() {
        let kind = errorKind("[server]\nevent_loops = 1\nevent_loops = 2\n")
        guard case .syntax(let message) = kind else { return XCTFail("got \(String(describing: kind))") }
        XCTAssertTrue(message.hasPrefix("line 3"), message)
    }

    func testUnknownKeySuggestsClosestKey() {
        XCTAssertEqual(
            errorKind("[server]\nlistn = \"127.0.0.1:8080\"\n"),
            .unknownKey(path: "server.listn", suggestion: "server.listen"))
        XCTAssertEqual(
            errorDescription("[server]\nlistn = \"127.0.0.1:8080\"\n"),
            "test.toml: unknown key server.listn. Did you mean server.listen? Rename or remove the key.")
    }

    func testUnknownKeySuggestions() {
        XCTAssertEqual(errorKind("[servr]\n"), .unknownKey(path: "servr", suggestion: "server"))
        XCTAssertEqual(
            errorKind("[server]\nMaxMessageBytes = 1\n"),
            .unknownKey(path: "server.MaxMessageBytes", suggestion: "server.max_message_bytes"))
        XCTAssertEqual(
            errorKind("[server.tls]\ncert = \"a\"\n"),
            .unknownKey(path: "server.tls.cert", suggestion: "server.tls.cert_file"))
        XCTAssertEqual(errorKind("[server]\nlevel = \"info\"\n"), .unknownKey(path: "server.level", suggestion: "log.level"))
        XCTAssertEqual(errorKind("colour = 1\n"), .unknownKey(path: "colour", suggestion: nil))
    }

    // MARK: Types and ranges

    func testWrongTypeNamesValueAndExpectedType() {
        XCTAssertEqual(
            errorKind("[server]\nmax_message_bytes = \"64k\"\n"),
            .wrongType(path: "server.max_message_bytes", value: "\"64k\"", expected: "an integer"))
        XCTAssertEqual(
            errorKind("[server]\nmax_message_bytes = 1.5\n"),
            .wrongType(path: "server.max_message_bytes", value: "1.5", expected: "an integer"))
        XCTAssertEqual(
            errorKind("[server]\nbinary_frames = 1\n"),
            .wrongType(path: "server.binary_frames", value: "1", expected: "true or false"))
        XCTAssertEqual(
            errorKind("[server]\nlisten = 8080\n"),
            .wrongType(path: "server.listen", value: "8080", expected: "a string in double quotes"))
        XCTAssertEqual(
            errorKind("server = 5\n"),
            .wrongType(path: "server", value: "5", expected: "a table"))
        XCTAssertEqual(
            errorKind("[server]\nallowed_origins = [\"*\", 3]\n"),
            .wrongType(
                path: "server.allowed_origins", value: "[\"*\", 3]", expected: "an array of strings, such as [\"a\", \"b\"]"))
        XCTAssertEqual(
            errorDescription("[server]\nmax_message_bytes = \"64k\"\n"),
            "test.toml: server.max_message_bytes = \"64k\" has the wrong type. Change it to an integer.")
    }

    func testOutOfRangeNamesRange() {
        XCTAssertEqual(
            errorKind("[server]\nmax_message_bytes = 0\n"),
            .outOfRange(path: "server.max_message_bytes", value: "0", range: "from 1024 to 1073741824"))
        XCTAssertEqual(
            errorKind("[presence]\nflush_interval_ms = -1\n"),
            .outOfRange(path: "presence.flush_interval_ms", value: "-1", range: "from 0 to 1000"))
        XCTAssertEqual(
            errorDescription("[plugins]\nmemory_limit_mb = 100000\n"),
            "test.toml: plugins.memory_limit_mb = 100000 is out of range. Use a value from 1 to 4096.")
    }

    func testEnumeratedValuesListChoices() {
        XCTAssertEqual(
            errorKind("[log]\nlevel = \"warn\"\n"),
            .invalidValue(
                path: "log.level", value: "\"warn\"",
                reason: "it is not one of the accepted values. Use one of \"trace\", \"debug\", \"info\", "
                    + "\"notice\", \"warning\", \"error\", \"critical\""))
        XCTAssertEqual(
            errorKind("[auth]\nmode = \"oauth\"\n"),
            .invalidValue(
                path: "auth.mode", value: "\"oauth\"",
                reason: "it is not one of the accepted values. Use one of \"none\", \"jwt\""))
    }

    // MARK: Addresses

    func testListenAddressesParse() throws {
        let cases: [(String, String, UInt16, Bool)] = [
            ("127.0.0.1:8080", "127.0.0.1", 8080, false),
            ("0.0.0.0:0", "0.0.0.0", 0, false),
            ("localhost:65535", "localhost", 65_535, false),
            ("[::1]:9090", "::1", 9090, true),
            ("[::]:80", "::", 80, true),
        ]
        for (text, host, port, isIPv6) in cases {
            let address = try ListenAddress(parsing: text)
            XCTAssertEqual(address.host, host, text)
            XCTAssertEqual(address.port, port, text)
            XCTAssertEqual(address.isIPv6, isIPv6, text)
            XCTAssertEqual(address.description, text)
        }
        XCTAssertTrue(try ListenAddress(parsing: "127.0.0.2:1").isLoopback)
        XCTAssertTrue(try ListenAddress(parsing: "[::1]:1").isLoopback)
        XCTAssertFalse(try ListenAddress(parsing: "0.0.0.0:1").isLoopback)
        XCTAssertFalse(try ListenAddress(parsing: "[::]:1").isLoopback)
    }

    func testInvalidListenAddressesExplainWhy() {
        let cases: [(String, String)] = [
            ("localhost8080", "it has no port"),
            ("[::1]8080", "it has no port after the bracket"),
            ("::1:8080", "an IPv6 address must be written in brackets"),
            ("127.0.0.1:70000", "the port 70000 is out of range"),
            ("127.0.0.1:http", "the port \"http\" is not a number"),
            (":8080", "it has no host"),
            ("example.com:80", "the host \"example.com\" is not an IPv4 address or localhost"),
            ("[::1:80", "the IPv6 address has no closing bracket"),
            ("[fe80::zz]:80", "the host \"fe80::zz\" is not an IPv6 address"),
        ]
        for (text, reasonPrefix) in cases {
            do {
                _ = try ListenAddress(parsing: text)
                XCTFail("\(text) parsed")
            } catch {
                XCTAssertTrue(error.reason.hasPrefix(reasonPrefix), "\(text): \(error.reason)")
            }
        }
        guard case .invalidValue(let path, let value, _) = errorKind("[server]\nlisten = \"localhost8080\"\n") else {
            return XCTFail("expected invalidValue")
        }
        XCTAssertEqual(path, "server.listen")
        XCTAssertEqual(value, "\"localhost8080\"")
    }

    func testAdminOffLoopbackNeedsToken() throws {
        guard case .conflict(let paths, let reason) = errorKind("[admin]\nlisten = \"0.0.0.0:9090\"\n") else {
            return XCTFail("expected a conflict")
        }
        XCTAssertEqual(paths, ["admin.token", "admin.listen"])
        XCTAssertTrue(reason.contains("Set a token"), reason)
        let config = try GatewayConfig(toml: "[admin]\nlisten = \"0.0.0.0:9090\"\ntoken = \"s3cret-admin-token\"\n")
        XCTAssertEqual(config.admin.token, "s3cret-admin-token")
    }

    func testAdminAndServerCannotShareAddress() {
        guard case .conflict(let paths, _) = errorKind("[admin]\nlisten = \"127.0.0.1:8080\"\n") else {
            return XCTFail("expected a conflict")
        }
        XCTAssertEqual(paths, ["admin.listen", "server.listen"])
    }

    // MARK: Section rules

    func testTLSNeedsBothFiles() throws {
        guard case .conflict(let paths, _) = errorKind("[server.tls]\ncert_file = \"cert.pem\"\n") else {
            return XCTFail("expected a conflict")
        }
        XCTAssertEqual(paths, ["server.tls.key_file", "server.tls.cert_file"])
        guard case .invalidValue(let path, _, let reason) = errorKind(
            "[server.tls]\ncert_file = \"/nonexistent/cert.pem\"\nkey_file = \"/nonexistent/key.pem\"\n")
        else { return XCTFail("expected invalidValue") }
        XCTAssertEqual(path, "server.tls.cert_file")
        XCTAssertTrue(reason.contains("No such file or directory"), reason)

        let cert = try temporaryFile("certificate")
        let key = try temporaryFile("key")
        let config = try GatewayConfig(toml: "[server.tls]\ncert_file = \"\(cert)\"\nkey_file = \"\(key)\"\n")
        XCTAssertTrue(config.server.tls.isEnabled)
        XCTAssertEqual(config.server.tls.keyFile, key)
    }

    func testAwayTimeoutMustExceedActivityTimeout() {
        guard case .conflict(let paths, let reason) = errorKind(
            "[presence]\nactivity_timeout_ms = 60000\naway_timeout_ms = 60000\n")
        else { return XCTFail("expected a conflict") }
        XCTAssertEqual(paths, ["presence.away_timeout_ms", "presence.activity_timeout_ms"])
        XCTAssertTrue(reason.contains("(60000) must be greater than"), reason)
    }

    func testOriginsAndEchoPathAreChecked() {
        let badOrigins = ["https://example.com/", "example.com", "ftp://example.com", "https://", "[]"]
        for origin in badOrigins {
            let value = origin == "[]" ? "[]" : "[\"\(origin)\"]"
            guard case .invalidValue(let path, _, _) = errorKind("[server]\nallowed_origins = \(value)\n") else {
                XCTFail("\(origin) was accepted")
                continue
            }
            XCTAssertEqual(path, "server.allowed_origins")
        }
        for echoPath in ["echo", "/v1/ws", "/echo?x=1"] {
            guard case .invalidValue(let path, _, _) = errorKind("[server]\necho_path = \"\(echoPath)\"\n") else {
                XCTFail("\(echoPath) was accepted")
                continue
            }
            XCTAssertEqual(path, "server.echo_path")
        }
    }

    func testMetricsNamespaceMustBePrometheusName() throws {
        guard case .invalidValue(let path, _, _) = errorKind("[metrics]\nnamespace = \"materi-presence\"\n") else {
            return XCTFail("expected invalidValue")
        }
        XCTAssertEqual(path, "metrics.namespace")
        XCTAssertEqual(try GatewayConfig(toml: "[metrics]\nnamespace = \"\"\n").metrics.namespace, "")
    }

    func testPluginConfigTablesBecomeJSON() throws {
        let config = try GatewayConfig(
            toml: """
                [plugins.config.brand-palette]
                colors = ["#e6194b", "#3cb44b"]
                strict = true
                [plugins.config.capacity]
                limits = { acme = 50, globex = 2.5 }
                """)
        XCTAssertEqual(config.plugins.config["brand-palette"], "{\"colors\":[\"#e6194b\",\"#3cb44b\"],\"strict\":true}")
        XCTAssertEqual(config.plugins.config["capacity"], "{\"limits\":{\"acme\":50,\"globex\":2.5}}")
        XCTAssertEqual(
            errorKind("[plugins.config]\npalette = 3\n"),
            .wrongType(
                path: "plugins.config.palette", value: "3",
                expected: "a table, written as [plugins.config.palette] followed by its keys"))
    }

    func testRedisURLsParse() throws {
        let plain = try RedisEndpoint(parsing: "redis://127.0.0.1:6379")
        XCTAssertEqual(plain.host, "127.0.0.1")
        XCTAssertEqual(plain.port, 6379)
        XCTAssertNil(plain.password)
        XCTAssertEqual(plain.database, 0)
        XCTAssertEqual(plain.description, "redis://127.0.0.1:6379/0")
        let full = try RedisEndpoint(parsing: "redis://:p%40ss@redis.internal:6380/2")
        XCTAssertEqual(full.host, "redis.internal")
        XCTAssertEqual(full.port, 6380)
        XCTAssertEqual(full.password, "p@ss")
        XCTAssertEqual(full.database, 2)
        XCTAssertEqual(full.description, "redis://:***@redis.internal:6380/2")
        let ipv6 = try RedisEndpoint(parsing: "redis://[::1]:6379")
        XCTAssertEqual(ipv6.host, "::1")
    }

    func testInvalidRedisURLsExplainWhy() {
        let cases: [(String, String)] = [
            ("http://127.0.0.1:6379", "it does not start with redis://"),
            ("rediss://127.0.0.1:6379", "TLS to Redis (rediss://) is not supported"),
            ("redis://127.0.0.1", "it has no port"),
            ("redis://127.0.0.1:0", "the port \"0\" is not a number from 1 to 65535"),
            ("redis://user:pass@127.0.0.1:6379", "a user name is not supported"),
            ("redis://127.0.0.1:6379/x", "the database \"x\" is not a number"),
            ("redis://127.0.0.1:6379?timeout=1", "query parameters and fragments are not supported"),
            ("redis://:6379", "it has no host"),
            ("redis://::1:6379", "an IPv6 host must be in brackets"),
            ("redis://:@127.0.0.1:6379", "the password is empty"),
        ]
        for (text, reasonPrefix) in cases {
            do {
                _ = try RedisEndpoint(parsing: text)
                XCTFail("\(text) parsed")
            } catch {
                XCTAssertTrue(error.reason.hasPrefix(reasonPrefix), "\(text): \(error.reason)")
            }
        }
    }

    func testRedisSectionRules() throws {
        let sharded = try GatewayConfig(
            toml: "[redis]\nurls = [\"redis://127.0.0.1:7001\", \"redis://127.0.0.1:7002\"]\nnode_id = \"node-a.1\"\n")
        XCTAssertEqual(sharded.redis.endpoints.map(\.port), [7001, 7002])
        XCTAssertFalse(sharded.redis.isEmbedded)

        guard case .conflict(let paths, _) = errorKind(
            "[redis]\nurl = \"redis://127.0.0.1:1\"\nurls = [\"redis://127.0.0.1:2\"]\n")
        else { return XCTFail("expected a conflict") }
        XCTAssertEqual(paths, ["redis.url", "redis.urls"])

        guard case .invalidValue(let path, _, _) = errorKind("[redis]\nurls = [\"redis://127.0.0.1:1\", \"redis:/x\"]\n")
        else { return XCTFail("expected invalidValue") }
        XCTAssertEqual(path, "redis.urls[1]")

        guard case .invalidValue(let nodePath, _, _) = errorKind("[redis]\nnode_id = \"node:1\"\n")
        else { return XCTFail("expected invalidValue") }
        XCTAssertEqual(nodePath, "redis.node_id")

        guard case .conflict(let timing, _) = errorKind("[redis]\nnode_timeout_ms = 3000\nheartbeat_interval_ms = 2000\n")
        else { return XCTFail("expected a conflict") }
        XCTAssertEqual(timing, ["redis.node_timeout_ms", "redis.heartbeat_interval_ms"])
    }

    func testRedisPasswordStaysOutOfErrors() {
        let description = errorDescription("[redis]\nurl = \"redis://:hunter2-secret@127.0.0.1\"\n")
        XCTAssertTrue(description.contains("redis.url = \"redis://:***@127.0.0.1\" is invalid because it has no port"), description)
        XCTAssertFalse(description.contains("hunter2"), description)
    }

    func testAuthJWTNeedsKey() throws {
        guard case .conflict(let paths, _) = errorKind("[auth]\nmode = \"jwt\"\n") else {
            return XCTFail("expected a conflict")
        }
        XCTAssertEqual(paths, ["auth.mode", "auth.jwt_secret", "auth.jwt_public_key_file"])

        let secret = String(repeating: "k", count: 32)
        let config = try GatewayConfig(toml: "[auth]\nmode = \"jwt\"\njwt_secret = \"\(secret)\"\nissuer = \"materi\"\n")
        XCTAssertEqual(config.auth.mode, .jwt)
        XCTAssertEqual(config.auth.jwtSecret, secret)
        XCTAssertEqual(config.auth.issuer, "materi")

        let keyFile = try temporaryFile("-----BEGIN PUBLIC KEY-----\n")
        XCTAssertEqual(
            try GatewayConfig(toml: "[auth]\nmode = \"jwt\"\njwt_public_key_file = \"\(keyFile)\"\n").auth.jwtPublicKeyFile,
            keyFile)
    }

    func testShortSecretIsRejectedWithoutShowingIt() {
        let description = errorDescription("[auth]\nmode = \"jwt\"\njwt_secret = \"tooshort-secret\"\n")
        XCTAssertTrue(description.contains("auth.jwt_secret = <redacted> is invalid because it is 15 bytes long"), description)
        XCTAssertFalse(description.contains("tooshort"), description)
        let wrongType = errorDescription("[auth]\njwt_secret = 12345\n")
        XCTAssertTrue(wrongType.contains("auth.jwt_secret = <redacted> has the wrong type"), wrongType)
        XCTAssertFalse(wrongType.contains("12345"), wrongType)
    }

    // MARK: Files

    func testLoadReportsMissingFile() {
        do {
            _ = try GatewayConfig.load(path: "/nonexistent/gateway.toml")
            XCTFail("a missing file loaded")
        } catch {
            XCTAssertEqual(error.kind, .unreadableFile(reason: "No such file or directory"))
            XCTAssertEqual(error.file, "/nonexistent/gateway.toml")
            XCTAssertTrue(error.description.contains("--config PATH"), error.description)
        }
    }

    func testLoadNamesFileInErrors() throws {
        let path = try temporaryFile("[server]\nlistn = \"x\"\n")
        do {
            _ = try GatewayConfig.load(path: path)
            XCTFail("an invalid file loaded")
        } catch {
            XCTAssertEqual(error.file, path)
            XCTAssertTrue(error.description.hasPrefix("\(path): unknown key server.listn."), error.description)
        }
    }
}

final class LaunchCommandTests: XCTestCase {
    private func options(_ arguments: [String]) throws(LaunchError) -> LaunchOptions {
        try LaunchOptions(arguments: arguments)
    }

    private func usageError(_ arguments: [String]) -> String? {
        do {
            _ = try LaunchOptions(arguments: arguments)
            return nil
        } catch {
            guard case .usage(let message) = error else { return nil }
            XCTAssertEqual(error.exitCode, 2)
            return message
        }
    }

    func testNoArgumentsRunsDefaultConfig() throws {
        let parsed = try options([])
        XCTAssertEqual(parsed.configPath, "config.toml")
        XCTAssertFalse(parsed.check)
        XCTAssertFalse(parsed.help)
        XCTAssertFalse(parsed.version)
    }

    func testConfigPathForms() throws {
        XCTAssertEqual(try options(["--config", "a.toml"]).configPath, "a.toml")
        XCTAssertEqual(try options(["-c", "b.toml"]).configPath, "b.toml")
        XCTAssertEqual(try options(["--config=c.toml"]).configPath, "c.toml")
        let check = try options(["--check", "--config", "d.toml"])
        XCTAssertTrue(check.check)
        XCTAssertEqual(check.configPath, "d.toml")
    }

    func testCommandsResolve() throws {
        XCTAssertEqual(try LaunchCommand(arguments: ["--help"]), .help)
        XCTAssertEqual(try LaunchCommand(arguments: ["-h", "--version"]), .help)
        XCTAssertEqual(try LaunchCommand(arguments: ["--version"]), .version)
        XCTAssertEqual(try LaunchCommand(arguments: ["--check"]), .check(configPath: "config.toml"))
        XCTAssertEqual(LaunchCommand.versionText, "presence-gateway 0.1.0")
        XCTAssertTrue(LaunchCommand.usage.contains("--check [--config PATH]"))
    }

    func testRunLoadsConfig() throws {
        let path = NSTemporaryDirectory() + "launch-\(UUID().uuidString).toml"
        try "[log]\nlevel = \"debug\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        guard case .run(let config, let configPath) = try LaunchCommand(arguments: ["--config", path]) else {
            return XCTFail("expected run")
        }
        XCTAssertEqual(configPath, path)
        XCTAssertEqual(config.log.level, .debug)
    }

    func testRunWithInvalidConfigExitsOne() {
        do {
            _ = try LaunchCommand(arguments: ["--config", "/nonexistent/x.toml"])
            XCTFail("expected an error")
        } catch {
            XCTAssertEqual(error.exitCode, 1)
            guard case .invalidConfig(let configError) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(configError.file, "/nonexistent/x.toml")
        }
    }

    func testInvalidArgumentsExitTwoWithReason() {
        XCTAssertEqual(usageError(["--verbose"]), "unknown option \"--verbose\"")
        XCTAssertEqual(usageError(["config.toml"]), "unexpected argument \"config.toml\"; the configuration file goes after --config")
        XCTAssertEqual(usageError(["--config"]), "--config needs a file path after it, but found nothing")
        XCTAssertEqual(usageError(["--config", "--check"]), "--config needs a file path after it, but found \"--check\"")
        XCTAssertEqual(usageError(["--config=a", "-c", "b"]), "-c is given more than once; pass one configuration file")
        XCTAssertEqual(usageError(["--config="]), "--config needs a file path, but the path is empty")
        let description = LaunchError.usage("unknown option \"--x\"").description
        XCTAssertTrue(description.hasPrefix("presence-gateway: unknown option \"--x\".\n\nUsage: presence-gateway"), description)
    }
}
