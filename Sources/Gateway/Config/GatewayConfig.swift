import CTOML
import Foundation

/// The gateway's configuration, from a TOML file such as the repository's `config.toml`.
///
/// Every key is optional and has a default. toml++ (through the CTOML shim) turns the file into JSON,
/// which is decoded here. An unknown key, a wrong type, a value out of range or keys that contradict
/// each other stop start-up with a `ConfigError` that names the key path and the value.
struct GatewayConfig: Decodable, Equatable, Sendable {
    var server: Server
    var admin: Admin
    var log: Log
    var metrics: Metrics
    var presence: Presence
    var plugins: Plugins
    var redis: Redis
    var auth: Auth

    init(from decoder: any Decoder) throws {
        let reader = try ConfigTableReader(decoder)
        server = try reader.table("server")
        admin = try reader.table("admin")
        log = try reader.table("log")
        metrics = try reader.table("metrics")
        presence = try reader.table("presence")
        plugins = try reader.table("plugins")
        redis = try reader.table("redis")
        auth = try reader.table("auth")
        try reader.finishReading()

        if admin.listen == server.listen && server.listen.port != 0 {
            throw ConfigError(
                .conflict(
                    paths: ["admin.listen", "server.listen"],
                    reason: "admin.listen and server.listen are both \(server.listen). Give the admin "
                        + "listener its own port, such as 127.0.0.1:9090."))
        }
    }

    /// The configuration with every default, as an empty file gives.
    static let defaults: GatewayConfig = {
        do {
            return try GatewayConfig(toml: "")
        } catch {
            preconditionFailure("the built-in defaults are invalid: \(error)")
        }
    }()

    /// Every key path the decoder reads (`server.listen`, `server.tls.cert_file`, …), for suggestions.
    static let knownKeyPaths: [String] = {
        let recorder = ConfigKeyRecorder()
        let decoder = JSONDecoder()
        decoder.userInfo[.configKeyRecorder] = recorder
        _ = try? decoder.decode(GatewayConfig.self, from: Data("{}".utf8))
        return recorder.recordedPaths
    }()

    /// Parses and validates TOML text. `file` names the source in error messages.
    init(toml text: String, file: String? = nil) throws(ConfigError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let json = text.withCString { ctoml_to_json($0, text.utf8.count, &errorMessage) }
        guard let json else {
            let message = errorMessage.map { String(cString: $0) } ?? "unknown position: toml++ gave no message"
            free(errorMessage)
            throw ConfigError(.syntax(message: message), file: file)
        }
        let data = Data(bytes: json, count: strlen(json))
        free(json)

        do {
            self = try JSONDecoder().decode(GatewayConfig.self, from: data)
        } catch var error as ConfigError {
            error.file = file
            throw error
        } catch let error as DecodingError {
            throw ConfigError(GatewayConfig.describe(error), file: file)
        } catch {
            throw ConfigError(.syntax(message: "an unexpected decoding failure: \(error)"), file: file)
        }
    }

    /// Reads, parses and validates the file at `path`.
    static func load(path: String) throws(ConfigError) -> GatewayConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch let error as CocoaError where error.code == .fileReadInapplicableStringEncoding {
            throw ConfigError(.unreadableFile(reason: "it is not UTF-8 text, which TOML requires"), file: path)
        } catch {
            throw ConfigError(.unreadableFile(reason: GatewayConfig.readFailureReason(path: path)), file: path)
        }
        return try GatewayConfig(toml: text, file: path)
    }

    private static func readFailureReason(path: String) -> String {
        var status = stat()
        if stat(path, &status) != 0 {
            return String(cString: strerror(errno))
        }
        if (status.st_mode & S_IFMT) == S_IFDIR {
            return "it is a directory"
        }
        return access(path, R_OK) == 0 ? "it could not be read" : String(cString: strerror(EACCES))
    }

    /// Maps a decoding error that escaped the section readers (they convert their own) to a `ConfigError`.
    private static func describe(_ error: DecodingError) -> ConfigError.Kind {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
            .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return .wrongType(path: path.isEmpty ? "(top level)" : path, value: "(unreadable)", expected: context.debugDescription)
        @unknown default:
            return .wrongType(path: "(top level)", value: "(unreadable)", expected: "\(error)")
        }
    }
}
