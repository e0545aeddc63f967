// This file, `TokenClaims.swift`, `TokenError.swift` and `Base64URL.swift` use only the standard
// library and PresenceCore's JSON parser, so that the token fuzzer compiles them together with
// the parser's source files into one module, where `import PresenceCore` is not available.
#if canImport(PresenceCore)
import PresenceCore

/// PresenceCore's parsed JSON. The Gateway module has a `JSONValue` of its own for configuration
/// tables, so the token code names this one explicitly.
typealias TokenJSON = PresenceCore.JSONValue
#else
typealias TokenJSON = JSONValue
#endif

/// A JWS in compact serialization (RFC 7515 section 7.1), split and decoded but not yet verified.
///
/// Parsing stops at the first problem, and the payload's JSON is parsed only after the signature
/// has been checked (`claims()`), so a forged token costs the gateway a base64 decode and one
/// signature check at most.
struct UnverifiedToken: Sendable {
    /// Maximum token length in bytes. The transport reads request heads of at most 8 KiB by default,
    /// so a longer token could not arrive in a header anyway.
    static let maxLength = 8192
    /// Bounds of the header and payload JSON. Claims are flat apart from short arrays; the depth
    /// leaves room for issuers that add nested objects the gateway ignores.
    static let jsonLimits = JSONParseLimits(maxBytes: maxLength, maxDepth: 16)

    /// The header's `alg`, such as "HS256".
    let algorithm: String
    /// The header's `kid`, when present.
    let keyID: String?
    /// The ASCII bytes that were signed: the encoded header, a dot and the encoded payload.
    let signingInput: [UInt8]
    /// The decoded payload, JSON not yet parsed.
    let payload: [UInt8]
    let signature: [UInt8]

    /// Splits `token` and decodes its header, payload and signature.
    static func parse(_ token: some Collection<UInt8>) throws(TokenError) -> UnverifiedToken {
        let bytes = Array(token)
        guard !bytes.isEmpty else { throw .missing }
        guard bytes.count <= maxLength else { throw .tooLong(length: bytes.count, limit: maxLength) }

        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            if parts.count == 5 {
                throw .malformed("it has 5 parts, which is an encrypted token (JWE); only signed tokens (JWS) are accepted")
            }
            throw .malformed("expected 3 base64url parts separated by '.', found \(parts.count)")
        }
        guard !parts[0].isEmpty, !parts[1].isEmpty else {
            throw .malformed("the \(parts[0].isEmpty ? "header" : "payload") part is empty")
        }
        guard !parts[2].isEmpty else {
            throw .malformed("the signature part is empty; unsigned tokens are not accepted")
        }

        let headerBytes = try decode(parts[0], part: .header)
        let payload = try decode(parts[1], part: .payload)
        let signature = try decode(parts[2], part: .signature)
        let header = try parseObject(headerBytes, part: .header)
        let (algorithm, keyID) = try readHeader(header)

        return UnverifiedToken(
            algorithm: algorithm,
            keyID: keyID,
            signingInput: Array(bytes[..<parts[1].endIndex]),
            payload: payload,
            signature: signature
        )
    }

    /// Parses and checks the payload's claims. Call it only after the signature is verified.
    func claims() throws(TokenError) -> TokenClaims {
        try TokenClaims(try Self.parseObject(payload, part: .payload))
    }

    private static func decode(_ text: ArraySlice<UInt8>, part: TokenError.Part) throws(TokenError) -> [UInt8] {
        do {
            return try Base64URL.decode(text)
        } catch {
            throw .invalidBase64(part: part, reason: error.description)
        }
    }

    static func parseObject(_ bytes: [UInt8], part: TokenError.Part) throws(TokenError) -> [String: TokenJSON] {
        let value: TokenJSON
        do {
            value = try JSONParser.parse(bytes, limits: jsonLimits)
        } catch {
            throw .invalidJSON(part: part, reason: error.description)
        }
        guard case .object(let members) = value else {
            throw .invalidJSON(part: part, reason: "the top-level value is \(value.typeDescription)")
        }
        // The parser rejects duplicate keys, so every key maps to exactly one member.
        var object: [String: TokenJSON] = [:]
        for member in members { object[member.key] = member.value }
        return object
    }

    /// Reads `alg` and `kid`, and rejects header parameters that change how a token must be
    /// processed, because ignoring them would verify a token differently from its issuer. Keys
    /// carried in the header (`jwk`, `jku`, `x5c`, `x5u`) are ignored: only the configured key is used.
    private static func readHeader(_ header: [String: TokenJSON]) throws(TokenError) -> (String, String?) {
        guard let algValue = header["alg"] else {
            throw .invalidHeader("missing \"alg\"")
        }
        guard case .string(let algorithm) = algValue, !algorithm.isEmpty else {
            throw .invalidHeader("\"alg\" must be a non-empty string, got \(algValue.typeDescription)")
        }
        if header["crit"] != nil {
            // RFC 7515 section 4.1.11: a recipient that does not understand every listed extension
            // must reject the token, and this gateway implements none.
            throw .invalidHeader("\"crit\" lists extensions this gateway does not implement")
        }
        for name in ["enc", "zip"] where header[name] != nil {
            throw .invalidHeader("\"\(name)\" belongs to encrypted tokens (JWE), which are not accepted")
        }
        if let typValue = header["typ"] {
            guard case .string = typValue else {
                throw .invalidHeader("\"typ\" must be a string, got \(typValue.typeDescription)")
            }
        }
        var keyID: String? = nil
        if let kidValue = header["kid"] {
            guard case .string(let kid) = kidValue else {
                throw .invalidHeader("\"kid\" must be a string, got \(kidValue.typeDescription)")
            }
            keyID = kid
        }
        return (algorithm, keyID)
    }
}
