import Foundation
import Synchronization

/// Any string key, so that a table's keys can be listed whatever they are.
struct ConfigKey: CodingKey {
    let stringValue: String
    let intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        intValue = nil
    }

    init(intValue: Int) {
        stringValue = String(intValue)
        self.intValue = intValue
    }
}

extension CodingUserInfoKey {
    /// `[String]`: key path of a table that is decoded on its own because the file omits it.
    static let configPathPrefix = CodingUserInfoKey(rawValue: "presence-gateway.config.path-prefix")!
    /// `ConfigKeyRecorder`: collects every known key path while decoding.
    static let configKeyRecorder = CodingUserInfoKey(rawValue: "presence-gateway.config.key-recorder")!
}

/// Collects the key paths that section decoders read, to list every known key.
final class ConfigKeyRecorder: Sendable {
    /// Owned by this lock.
    private let paths = Mutex<[String]>([])

    func record(_ path: String) {
        paths.withLock { $0.append(path) }
    }

    var recordedPaths: [String] {
        paths.withLock { $0 }
    }
}

/// Reads the keys of one TOML table inside a section's `init(from:)`.
///
/// Each accessor takes the key's default and its allowed range, so a missing key gets the default
/// and a wrong type or out-of-range value becomes a `ConfigError` that names the key path and the
/// value. `finishReading()` then rejects every key that no accessor asked for, with a suggestion.
final class ConfigTableReader {
    /// Key path of this table, such as `["server", "tls"]`; empty for the top level.
    let path: [String]
    private let container: KeyedDecodingContainer<ConfigKey>
    private let recorder: ConfigKeyRecorder?
    /// Keys whose values are secrets: errors show them as `<redacted>`.
    private let secretKeys: Set<String>
    private var readKeys: [String] = []

    init(_ decoder: any Decoder, secretKeys: Set<String> = []) throws {
        let prefix = decoder.userInfo[.configPathPrefix] as? [String] ?? []
        path = prefix + decoder.codingPath.map(\.stringValue)
        container = try decoder.container(keyedBy: ConfigKey.self)
        recorder = decoder.userInfo[.configKeyRecorder] as? ConfigKeyRecorder
        self.secretKeys = secretKeys
    }

    /// Returns the dotted path of `key` in this table, as shown in errors (`server.listen`).
    func keyPath(_ key: String) -> String {
        (path + [key]).joined(separator: ".")
    }

    /// Returns the value of `key` as written in the file, for error messages, with secrets redacted.
    func displayedValue(_ key: String) -> String {
        if secretKeys.contains(key) { return "<redacted>" }
        guard let value = try? container.decode(JSONValue.self, forKey: ConfigKey(stringValue: key)) else {
            return "(unreadable)"
        }
        return value.tomlText
    }

    /// Decodes `key` as `T`, or returns `defaultValue` when the key is absent. `expected` names the
    /// type in an error ("an integer").
    private func decode<T: Decodable>(_ key: String, default defaultValue: T, expected: String) throws -> T {
        markRead(key)
        let codingKey = ConfigKey(stringValue: key)
        guard container.contains(codingKey) else { return defaultValue }
        do {
            return try container.decode(T.self, forKey: codingKey)
        } catch {
            // Foundation reports some mismatches (1.5 for an Int) with an internal error type, not
            // DecodingError, so every failure of this one value counts as a wrong type.
            throw ConfigError(.wrongType(path: keyPath(key), value: displayedValue(key), expected: expected))
        }
    }

    func integer(_ key: String, default defaultValue: Int, range: ClosedRange<Int>) throws -> Int {
        let value = try decode(key, default: defaultValue, expected: "an integer")
        guard range.contains(value) else {
            throw ConfigError(
                .outOfRange(
                    path: keyPath(key), value: String(value),
                    range: "from \(range.lowerBound) to \(range.upperBound)"))
        }
        return value
    }

    func string(_ key: String, default defaultValue: String) throws -> String {
        try decode(key, default: defaultValue, expected: "a string in double quotes")
    }

    func boolean(_ key: String, default defaultValue: Bool) throws -> Bool {
        try decode(key, default: defaultValue, expected: "true or false")
    }

    func strings(_ key: String, default defaultValue: [String]) throws -> [String] {
        try decode(key, default: defaultValue, expected: "an array of strings, such as [\"a\", \"b\"]")
    }

    /// Returns one of `choices` (given as the names written in the file), or throws an error that
    /// lists them.
    func choice<T>(_ key: String, default defaultValue: String, choices: [(name: String, value: T)]) throws -> T {
        let name = try string(key, default: defaultValue)
        guard let match = choices.first(where: { $0.name == name }) else {
            let names = choices.map { "\"\($0.name)\"" }.joined(separator: ", ")
            throw ConfigError(
                .invalidValue(
                    path: keyPath(key), value: displayedValue(key),
                    reason: "it is not one of the accepted values. Use one of \(names)"))
        }
        return match.value
    }

    /// Decodes a nested table. A table the file omits is decoded from an empty table, so every default
    /// lives in the section's own `init(from:)`.
    func table<T: Decodable>(_ key: String, as type: T.Type = T.self) throws -> T {
        markRead(key)
        let codingKey = ConfigKey(stringValue: key)
        if container.contains(codingKey) {
            do {
                return try container.decode(T.self, forKey: codingKey)
            } catch let error as ConfigError {
                throw error
            } catch {
                throw ConfigError(.wrongType(path: keyPath(key), value: displayedValue(key), expected: "a table"))
            }
        }
        let decoder = JSONDecoder()
        decoder.userInfo[.configPathPrefix] = path + [key]
        if let recorder {
            decoder.userInfo[.configKeyRecorder] = recorder
        }
        do {
            return try decoder.decode(T.self, from: Data("{}".utf8))
        } catch let error as ConfigError {
            throw error
        } catch {
            preconditionFailure("the defaults of [\(keyPath(key))] failed to decode: \(error)")
        }
    }

    /// Returns the value of `key` as it is, or nil when absent, for free-form tables.
    func anyValue(_ key: String) throws -> JSONValue? {
        markRead(key)
        return try container.decodeIfPresent(JSONValue.self, forKey: ConfigKey(stringValue: key))
    }

    /// Rejects keys that no accessor read. Call after reading every key of the table.
    func finishReading() throws {
        if let recorder {
            for key in readKeys {
                recorder.record(keyPath(key))
            }
        }
        let known = Set(readKeys)
        let unknown = container.allKeys.map(\.stringValue).filter { !known.contains($0) }.sorted()
        guard let first = unknown.first else { return }
        let suggestion = KeySuggester.closest(to: first, among: readKeys).map(keyPath)
            ?? GatewayConfig.knownKeyPaths.first { $0.hasSuffix("." + first) }
        throw ConfigError(.unknownKey(path: keyPath(first), suggestion: suggestion))
    }

    private func markRead(_ key: String) {
        if !readKeys.contains(key) {
            readKeys.append(key)
        }
    }
}
