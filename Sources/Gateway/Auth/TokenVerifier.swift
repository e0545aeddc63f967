import COpenSSL
import Foundation

/// Verifies the JWTs that clients present on the WebSocket upgrade.
///
/// Each key fixes its algorithm: the `[auth] jwt_secret` verifies only HS256 and the PEM key only
/// RS256 (RSA) or ES256 (P-256). A token's `alg` must name one of them, so `none` and algorithm
/// confusion (an HS256 token whose HMAC key is the public key text) are rejected before any
/// signature is computed. After the signature, `exp` and `nbf` are checked with the leeway, then
/// `iss` and `aud` when configured.
struct TokenVerifier: Sendable {
    /// A verification key and the one algorithm it is used with.
    enum Key: Sendable {
        /// HS256 with the shared secret's bytes.
        case hmacSHA256(secret: [UInt8])
        /// RS256 or ES256, as the key's kind decides.
        case publicKey(PublicKey)

        /// The JWS `alg` value this key verifies.
        var algorithm: String {
            switch self {
            case .hmacSHA256: "HS256"
            case .publicKey(let key): key.algorithm
            }
        }
    }

    /// An `[auth]` setting that no verifier can be built from, with the reason.
    struct SetupError: Error, CustomStringConvertible {
        let description: String
    }

    let keys: [Key]
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    let leewaySeconds: Int
    /// Required `iss`, or nil to accept any.
    let issuer: String?
    /// Required entry of `aud`, or nil to accept any.
    let audience: String?

    init(keys: [Key], leewaySeconds: Int, issuer: String? = nil, audience: String? = nil) {
        self.keys = keys
        self.leewaySeconds = leewaySeconds
        self.issuer = issuer
        self.audience = audience
    }

    /// Builds the verifier of `[auth]`, reading `jwt_public_key_file` when it is set.
    init(auth: GatewayConfig.Auth) throws(SetupError) {
        var keys: [Key] = []
        if !auth.jwtSecret.isEmpty {
            keys.append(.hmacSHA256(secret: Array(auth.jwtSecret.utf8)))
        }
        if !auth.jwtPublicKeyFile.isEmpty {
            let path = auth.jwtPublicKeyFile
            guard let data = FileManager.default.contents(atPath: path) else {
                throw SetupError(description: "cannot read [auth] jwt_public_key_file \(path); check that it exists and is readable")
            }
            do {
                keys.append(.publicKey(try PublicKey(pem: Array(data))))
            } catch {
                throw SetupError(description: "invalid [auth] jwt_public_key_file \(path): \(error)")
            }
        }
        guard !keys.isEmpty else {
            throw SetupError(description: "[auth] mode = \"jwt\" needs jwt_secret (HS256) or jwt_public_key_file (RS256, ES256)")
        }
        self.init(
            keys: keys, leewaySeconds: auth.leewaySeconds,
            issuer: auth.issuer.isEmpty ? nil : auth.issuer,
            audience: auth.audience.isEmpty ? nil : auth.audience)
    }

    /// The algorithms accepted, in the order of `keys`.
    var algorithms: [String] { keys.map(\.algorithm) }

    /// Verifies `token` at `now` (seconds since the Unix epoch) and returns its claims.
    func verify(_ token: some Collection<UInt8>, now: Double = Date().timeIntervalSince1970) throws(TokenError) -> TokenClaims {
        let unverified = try UnverifiedToken.parse(token)
        guard let key = keys.first(where: { $0.algorithm == unverified.algorithm }) else {
            throw .algorithmNotAccepted(algorithm: unverified.algorithm, accepted: algorithms)
        }
        guard Self.signatureIsValid(unverified, key: key) else { throw .invalidSignature }

        var claims = try unverified.claims()
        let leeway = Double(leewaySeconds)
        if now - leeway >= claims.expiresAt {
            // RFC 7519 section 4.1.4: the token must not be accepted on or after `exp`.
            throw .expired(expiresAt: claims.expiresAt, now: now, leewaySeconds: leewaySeconds)
        }
        if let notBefore = claims.notBefore, now + leeway < notBefore {
            throw .notYetValid(notBefore: notBefore, now: now, leewaySeconds: leewaySeconds)
        }
        if let issuer, claims.issuer != issuer {
            throw .issuerMismatch(found: claims.issuer)
        }
        if let audience, !claims.audiences.contains(audience) {
            throw .audienceMismatch(found: claims.audiences)
        }
        claims.validUntil = claims.expiresAt + leeway
        return claims
    }

    /// Verifies `token` given as text, as it comes from a header or query parameter.
    func verify(_ token: String, now: Double = Date().timeIntervalSince1970) throws(TokenError) -> TokenClaims {
        try verify(Array(token.utf8), now: now)
    }

    private static func signatureIsValid(_ token: UnverifiedToken, key: Key) -> Bool {
        switch key {
        case .hmacSHA256(let secret):
            guard token.signature.count == 32 else { return false }
            var mac = [UInt8](repeating: 0, count: 32)
            let computed = secret.withUnsafeBytes { secretBytes in
                token.signingInput.withUnsafeBytes { inputBytes in
                    copenssl_hmac_sha256(secretBytes.baseAddress, secretBytes.count, inputBytes.baseAddress, inputBytes.count, &mac)
                }
            }
            guard computed == 1 else { return false }
            return copenssl_constant_time_equal(mac, token.signature, 32) == 1
        case .publicKey(let publicKey):
            return publicKey.verify(signature: token.signature, of: token.signingInput)
        }
    }
}
