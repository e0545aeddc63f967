/// The reason a bearer token is rejected. Its description is the body of the 401 response, so it
/// states what is wrong with the token without echoing secrets or the gateway's expected values.
enum TokenError: Error, Equatable, Sendable {
    /// The three parts of a compact JWS.
    enum Part: String, Sendable {
        case header
        case payload
        case signature
    }

    /// No token on the upgrade request.
    case missing
    /// The token is longer than the gateway reads, in bytes.
    case tooLong(length: Int, limit: Int)
    /// The token is not `header.payload.signature`.
    case malformed(String)
    /// A part is not strict base64url.
    case invalidBase64(part: Part, reason: String)
    /// The header or payload is not a strict JSON object.
    case invalidJSON(part: Part, reason: String)
    /// The JOSE header is well-formed JSON but requires processing the gateway does not implement.
    case invalidHeader(String)
    /// `alg` is not one of the algorithms whose key the gateway has. `accepted` lists those.
    case algorithmNotAccepted(algorithm: String, accepted: [String])
    /// The signature does not match the header and payload under the configured key.
    case invalidSignature
    /// A required claim is absent.
    case missingClaim(String)
    /// A claim has the wrong type or an out-of-range value.
    case invalidClaim(name: String, reason: String)
    /// `exp` plus the leeway is in the past. Times are seconds since the Unix epoch.
    case expired(expiresAt: Double, now: Double, leewaySeconds: Int)
    /// `nbf` minus the leeway is in the future. Times are seconds since the Unix epoch.
    case notYetValid(notBefore: Double, now: Double, leewaySeconds: Int)
    /// `iss` is absent or differs from `[auth] issuer`.
    case issuerMismatch(found: String?)
    /// No `aud` entry equals `[auth] audience`.
    case audienceMismatch(found: [String])
}

extension TokenError {
    /// A short snake_case name of the case, for metric labels and log keys.
    var code: String {
        switch self {
        case .missing: "missing"
        case .tooLong: "too_long"
        case .malformed: "malformed"
        case .invalidBase64: "invalid_base64"
        case .invalidJSON: "invalid_json"
        case .invalidHeader: "invalid_header"
        case .algorithmNotAccepted: "algorithm_not_accepted"
        case .invalidSignature: "invalid_signature"
        case .missingClaim: "missing_claim"
        case .invalidClaim: "invalid_claim"
        case .expired: "expired"
        case .notYetValid: "not_yet_valid"
        case .issuerMismatch: "issuer_mismatch"
        case .audienceMismatch: "audience_mismatch"
        }
    }
}

extension TokenError: CustomStringConvertible {
    var description: String {
        switch self {
        case .missing:
            return "missing token: send it as ?token=<JWT> on the upgrade URL or as Authorization: Bearer <JWT>"
        case .tooLong(let length, let limit):
            return "token is \(length) bytes long, more than the limit of \(limit)"
        case .malformed(let reason):
            return "malformed token: \(reason)"
        case .invalidBase64(let part, let reason):
            return "invalid token \(part.rawValue): \(reason)"
        case .invalidJSON(let part, let reason):
            return "invalid token \(part.rawValue): not a valid JSON object (\(reason))"
        case .invalidHeader(let reason):
            return "invalid token header: \(reason)"
        case .algorithmNotAccepted(let algorithm, let accepted):
            let list = accepted.joined(separator: ", ")
            return "token algorithm \"\(TokenError.clip(algorithm))\" is not accepted; this gateway verifies \(list)"
        case .invalidSignature:
            return "invalid token signature"
        case .missingClaim(let name):
            return "token has no \"\(name)\" claim"
        case .invalidClaim(let name, let reason):
            return "invalid \"\(name)\" claim: \(reason)"
        case .expired(let expiresAt, let now, let leeway):
            return "token expired: exp \(TokenError.seconds(expiresAt)) is before now (\(TokenError.seconds(now))) "
                + "minus the leeway of \(leeway) s"
        case .notYetValid(let notBefore, let now, let leeway):
            return "token is not valid yet: nbf \(TokenError.seconds(notBefore)) is after now (\(TokenError.seconds(now))) "
                + "plus the leeway of \(leeway) s"
        case .issuerMismatch(let found):
            guard let found else { return "token has no \"iss\" claim and this gateway requires an issuer" }
            return "token issuer \"\(TokenError.clip(found))\" is not the issuer this gateway accepts"
        case .audienceMismatch(let found):
            if found.isEmpty { return "token has no \"aud\" claim and this gateway requires an audience" }
            let list = found.prefix(8).map { "\"\(TokenError.clip($0))\"" }.joined(separator: ", ")
            return "token audience [\(list)] does not include the audience this gateway accepts"
        }
    }

    /// Cuts a value from the token to 64 characters without control characters, so that a hostile token cannot fill a log line or response.
    static func clip(_ text: String) -> String {
        let limit = 64
        let scalars = text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }
        if scalars.count <= limit { return String(String.UnicodeScalarView(scalars)) }
        return String(String.UnicodeScalarView(scalars.prefix(limit))) + "..."
    }

    /// Seconds since the Unix epoch, whole when the value is whole.
    private static func seconds(_ value: Double) -> String {
        if value.rounded(.towardZero) == value, abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
