import Foundation
import XCTest

@testable import Gateway

final class AuthTokenVerifierTests: XCTestCase {
    private var keys: AuthTestKeys { AuthTestKeys.shared }

    private func publicKey(_ path: String) throws -> PublicKey {
        try PublicKey(pem: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    private func hmacVerifier(leeway: Int = 30, issuer: String? = nil, audience: String? = nil) -> TokenVerifier {
        TokenVerifier(
            keys: [.hmacSHA256(secret: Array(keys.secret.utf8))], leewaySeconds: leeway, issuer: issuer, audience: audience)
    }

    private func rsaVerifier() throws -> TokenVerifier {
        TokenVerifier(keys: [.publicKey(try publicKey(keys.rsaPublic))], leewaySeconds: 30)
    }

    private func ecVerifier() throws -> TokenVerifier {
        TokenVerifier(keys: [.publicKey(try publicKey(keys.ecPublic))], leewaySeconds: 30)
    }

    /// Verifies `token` and returns the error, failing the test when it is accepted.
    private func rejection(
        _ token: String, by verifier: TokenVerifier, now: Double = Date().timeIntervalSince1970,
        file: StaticString = #filePath, line: UInt = #line
    ) -> TokenError? {
        do {
            let claims = try verifier.verify(token, now: now)
            XCTFail("expected a rejection, got claims for \(claims.subject)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    private var now: Int { Int(Date().timeIntervalSince1970) }

    // MARK: - Accepted tokens

    func testHS256TokenIsAccepted() throws {
        let token = try keys.token("HS256", claims: ["avatar_url": "https://example.com/a.png"])
        let claims = try hmacVerifier().verify(token)
        XCTAssertEqual(claims.subject, "u1")
        XCTAssertEqual(claims.name, "Ada")
        XCTAssertEqual(claims.avatarURL, "https://example.com/a.png")
        XCTAssertEqual(claims.workspaces, ["w1"])
        XCTAssertNil(claims.documents)
    }

    func testRS256TokenIsAccepted() throws {
        let claims = try rsaVerifier().verify(try keys.token("RS256"))
        XCTAssertEqual(claims.subject, "u1")
    }

    func testES256TokenIsAccepted() throws {
        let claims = try ecVerifier().verify(try keys.token("ES256"))
        XCTAssertEqual(claims.subject, "u1")
    }

    func testCertificateKeyVerifiesES256() throws {
        let verifier = TokenVerifier(keys: [.publicKey(try publicKey(keys.ecCertificate))], leewaySeconds: 0)
        XCTAssertEqual(try verifier.verify(try keys.token("ES256")).subject, "u1")
    }

    func testPKCS1KeyVerifiesRS256() throws {
        let verifier = TokenVerifier(keys: [.publicKey(try publicKey(keys.rsaPublicPKCS1))], leewaySeconds: 0)
        XCTAssertEqual(try verifier.verify(try keys.token("RS256")).subject, "u1")
    }

    func testSecretAndPublicKeyEachVerifyTheirAlgorithm() throws {
        let verifier = TokenVerifier(
            keys: [.hmacSHA256(secret: Array(keys.secret.utf8)), .publicKey(try publicKey(keys.rsaPublic))],
            leewaySeconds: 30)
        XCTAssertEqual(verifier.algorithms, ["HS256", "RS256"])
        XCTAssertEqual(try verifier.verify(try keys.token("HS256")).subject, "u1")
        XCTAssertEqual(try verifier.verify(try keys.token("RS256")).subject, "u1")
    }

    // MARK: - Time

    func testExpiredTokenIsRejected() throws {
        let token = try keys.token("HS256", claims: ["exp": now - 60])
        guard case .expired(_, _, let leeway) = rejection(token, by: hmacVerifier(leeway: 30)) else {
            return XCTFail("expected an expiry rejection")
        }
        XCTAssertEqual(leeway, 30)
    }

    func testExpiryWithinLeewayIsAccepted() throws {
        let token = try keys.token("HS256", claims: ["exp": now - 10])
        XCTAssertEqual(try hmacVerifier(leeway: 30).verify(token).subject, "u1")
    }

    func testTokenIsRejectedAtItsExpiryInstant() throws {
        let token = try keys.token("HS256", claims: ["exp": 2_000_000_000])
        XCTAssertNotNil(rejection(token, by: hmacVerifier(leeway: 0), now: 2_000_000_000))
        XCTAssertEqual(try hmacVerifier(leeway: 0).verify(token, now: 1_999_999_999.5).subject, "u1")
    }

    func testNotYetValidTokenIsRejected() throws {
        let token = try keys.token("HS256", claims: ["nbf": now + 120])
        guard case .notYetValid = rejection(token, by: hmacVerifier(leeway: 30)) else {
            return XCTFail("expected a not-yet-valid rejection")
        }
    }

    func testNotBeforeWithinLeewayIsAccepted() throws {
        let token = try keys.token("HS256", claims: ["nbf": now + 10])
        XCTAssertEqual(try hmacVerifier(leeway: 30).verify(token).subject, "u1")
    }

    func testFractionalNumericDatesAreAccepted() throws {
        let token = try keys.token("HS256", claims: ["exp": Double(now) + 100.5, "nbf": Double(now) - 0.25])
        XCTAssertEqual(try hmacVerifier(leeway: 0).verify(token).subject, "u1")
    }

    // MARK: - Issuer and audience

    func testWrongIssuerIsRejected() throws {
        let token = try keys.token("HS256", claims: ["iss": "https://evil.example"])
        XCTAssertEqual(rejection(token, by: hmacVerifier(issuer: "https://id.example")), .issuerMismatch(found: "https://evil.example"))
    }

    func testMissingIssuerIsRejectedWhenRequired() throws {
        let token = try keys.token("HS256")
        XCTAssertEqual(rejection(token, by: hmacVerifier(issuer: "https://id.example")), .issuerMismatch(found: nil))
    }

    func testMatchingIssuerIsAccepted() throws {
        let token = try keys.token("HS256", claims: ["iss": "https://id.example"])
        XCTAssertEqual(try hmacVerifier(issuer: "https://id.example").verify(token).issuer, "https://id.example")
    }

    func testWrongAudienceIsRejected() throws {
        let token = try keys.token("HS256", claims: ["aud": "other-service"])
        XCTAssertEqual(rejection(token, by: hmacVerifier(audience: "presence")), .audienceMismatch(found: ["other-service"]))
    }

    func testAudienceArrayContainingAudienceIsAccepted() throws {
        let token = try keys.token("HS256", claims: ["aud": ["billing", "presence"]])
        XCTAssertEqual(try hmacVerifier(audience: "presence").verify(token).audiences, ["billing", "presence"])
    }

    func testAudienceArrayWithoutAudienceIsRejected() throws {
        let token = try keys.token("HS256", claims: ["aud": ["billing", "search"]])
        XCTAssertEqual(rejection(token, by: hmacVerifier(audience: "presence")), .audienceMismatch(found: ["billing", "search"]))
    }

    func testMissingAudienceIsRejectedWhenRequired() throws {
        let token = try keys.token("HS256")
        XCTAssertEqual(rejection(token, by: hmacVerifier(audience: "presence")), .audienceMismatch(found: []))
    }

    func testAudienceOfWrongTypeIsRejected() throws {
        let token = try keys.token("HS256", claims: ["aud": 7])
        guard case .invalidClaim(let name, _) = rejection(token, by: hmacVerifier()) else {
            return XCTFail("expected an invalid claim")
        }
        XCTAssertEqual(name, "aud")
    }

    // MARK: - Algorithms

    func testAlgNoneIsRejected() throws {
        let unsigned = AuthTestKeys.base64URL(Array("{\"alg\":\"none\"}".utf8)) + "."
            + AuthTestKeys.base64URL(Array("{\"sub\":\"u1\",\"workspace_id\":\"w1\",\"exp\":\(now + 60)}".utf8))
        XCTAssertEqual(
            rejection(unsigned + ".", by: hmacVerifier()),
            .malformed("the signature part is empty; unsigned tokens are not accepted"))

        let withSignature = try keys.token(header: "{\"alg\":\"none\"}", claims: "{\"sub\":\"u1\"}", signer: .raw([1, 2, 3]))
        XCTAssertEqual(rejection(withSignature, by: hmacVerifier()), .algorithmNotAccepted(algorithm: "none", accepted: ["HS256"]))
    }

    func testAlgorithmNamesAreCaseSensitive() throws {
        let token = try keys.token("hs256", signer: .hs256(secret: Array(keys.secret.utf8)))
        XCTAssertEqual(rejection(token, by: hmacVerifier()), .algorithmNotAccepted(algorithm: "hs256", accepted: ["HS256"]))
    }

    func testHS256SignedWithPublicKeyTextIsRejected() throws {
        // Algorithm confusion: an HS256 token whose HMAC key is the server's public key PEM.
        let pem = Array(try Data(contentsOf: URL(fileURLWithPath: keys.rsaPublic)))
        let token = try keys.token("HS256", signer: .hs256(secret: pem))
        XCTAssertEqual(rejection(token, by: try rsaVerifier()), .algorithmNotAccepted(algorithm: "HS256", accepted: ["RS256"]))

        // With a secret configured too, HS256 is verified with the secret, never with the PEM text.
        let both = TokenVerifier(
            keys: [.hmacSHA256(secret: Array(keys.secret.utf8)), .publicKey(try publicKey(keys.rsaPublic))],
            leewaySeconds: 30)
        XCTAssertEqual(rejection(token, by: both), .invalidSignature)
    }

    func testRS256TokenIsRejectedByES256Key() throws {
        let token = try keys.token("RS256")
        XCTAssertEqual(rejection(token, by: try ecVerifier()), .algorithmNotAccepted(algorithm: "RS256", accepted: ["ES256"]))
    }

    func testRS256HeaderOnES256SignatureIsRejected() throws {
        let token = try keys.token("RS256", signer: .es256(privateKeyFile: keys.ecPrivate))
        XCTAssertEqual(rejection(token, by: try rsaVerifier()), .invalidSignature)
    }

    func testOtherHMACAlgorithmsAreRejected() throws {
        for alg in ["HS384", "HS512", "PS256", "ES384", "EdDSA"] {
            let token = try keys.token(alg)
            XCTAssertEqual(
                rejection(token, by: hmacVerifier()), .algorithmNotAccepted(algorithm: alg, accepted: ["HS256"]), alg)
        }
    }

    // MARK: - Signatures

    func testTamperedPayloadIsRejected() throws {
        let token = try keys.token("HS256")
        let parts = token.split(separator: ".").map(String.init)
        let forged = AuthTestKeys.base64URL(
            Array("{\"sub\":\"admin\",\"workspace_id\":\"w1\",\"exp\":\(now + 3600)}".utf8))
        XCTAssertEqual(rejection(parts[0] + "." + forged + "." + parts[2], by: hmacVerifier()), .invalidSignature)
    }

    func testTamperedPayloadIsRejectedForEachAlgorithm() throws {
        let cases: [(String, TokenVerifier)] = [("RS256", try rsaVerifier()), ("ES256", try ecVerifier())]
        for (alg, verifier) in cases {
            let parts = try keys.token(alg).split(separator: ".").map(String.init)
            let forged = try keys.token(alg, claims: ["sub": "admin"]).split(separator: ".").map(String.init)
            XCTAssertEqual(rejection(parts[0] + "." + forged[1] + "." + parts[2], by: verifier), .invalidSignature, alg)
        }
    }

    func testWrongSecretIsRejected() throws {
        let token = try keys.token("HS256", signer: .hs256(secret: Array("another secret of at least 32 bytes!".utf8)))
        XCTAssertEqual(rejection(token, by: hmacVerifier()), .invalidSignature)
    }

    func testTruncatedHMACIsRejected() throws {
        let full = try keys.sign(Array("x".utf8), with: .hs256(secret: Array(keys.secret.utf8)))
        let header = AuthTestKeys.base64URL(Array("{\"alg\":\"HS256\"}".utf8))
        let payload = AuthTestKeys.base64URL(Array("{\"sub\":\"u1\",\"workspace_id\":\"w1\",\"exp\":\(now + 60)}".utf8))
        let good = AuthTestKeys.hmacSHA256(key: Array(keys.secret.utf8), data: Array((header + "." + payload).utf8))
        XCTAssertEqual(full.count, 32)
        XCTAssertEqual(
            rejection(header + "." + payload + "." + AuthTestKeys.base64URL(Array(good.prefix(16))), by: hmacVerifier()),
            .invalidSignature)
        XCTAssertEqual(try hmacVerifier().verify(header + "." + payload + "." + AuthTestKeys.base64URL(good)).subject, "u1")
    }

    func testES256SignatureFromOtherKeyIsRejected() throws {
        let token = try keys.token("ES256", signer: .es256(privateKeyFile: keys.otherECPrivate))
        XCTAssertEqual(rejection(token, by: try ecVerifier()), .invalidSignature)
    }

    func testES256SignatureInDERFormIsRejected() throws {
        let token = try keys.token("ES256", signer: .es256DER(privateKeyFile: keys.ecPrivate))
        XCTAssertEqual(rejection(token, by: try ecVerifier()), .invalidSignature)
    }

    func testES256SignatureWithZeroValuesIsRejected() throws {
        let token = try keys.token("ES256", signer: .raw([UInt8](repeating: 0, count: 64)))
        XCTAssertEqual(rejection(token, by: try ecVerifier()), .invalidSignature)
    }

    func testSignatureIsCheckedBeforeClaims() throws {
        // A forged token with bad claims gets the signature error, so its claims are never parsed.
        let token = try keys.token(header: "{\"alg\":\"HS256\"}", claims: "{\"sub\":5}", signer: .raw([UInt8](repeating: 7, count: 32)))
        XCTAssertEqual(rejection(token, by: hmacVerifier()), .invalidSignature)
    }

    // MARK: - Keys

    func testShortRSAKeyIsRejected() throws {
        XCTAssertThrowsError(try publicKey(keys.smallRSAPublic)) { error in
            XCTAssertTrue("\(error)".contains("1024 bits"), "\(error)")
        }
    }

    func testP384KeyIsRejected() throws {
        XCTAssertThrowsError(try publicKey(keys.p384Public)) { error in
            XCTAssertTrue("\(error)".contains("P-256"), "\(error)")
        }
    }

    func testGarbagePEMIsRejected() throws {
        XCTAssertThrowsError(try PublicKey(pem: Array("-----BEGIN GARBAGE-----\nAAAA\n-----END GARBAGE-----\n".utf8))) { error in
            XCTAssertTrue("\(error)".contains("no PEM public key"), "\(error)")
        }
    }

    func testPrivateKeyFileIsRejected() throws {
        XCTAssertThrowsError(try publicKey(keys.rsaPrivate)) { error in
            XCTAssertTrue("\(error)".contains("openssl pkey -pubout"), "\(error)")
        }
    }

    func testKeyKindsAreDetected() throws {
        XCTAssertEqual(try publicKey(keys.rsaPublic).kind, .rsa(bits: 2048))
        XCTAssertEqual(try publicKey(keys.ecPublic).kind, .ecP256)
        XCTAssertEqual(try publicKey(keys.ecPublic).algorithm, "ES256")
    }

    func testVerifierFromConfigReadsKeyFile() throws {
        let config = try GatewayConfig(toml: """
            [auth]
            mode = "jwt"
            jwt_public_key_file = "\(keys.ecPublic)"
            issuer = "https://id.example"
            """)
        let verifier = try TokenVerifier(auth: config.auth)
        XCTAssertEqual(verifier.algorithms, ["ES256"])
        XCTAssertEqual(verifier.issuer, "https://id.example")
        XCTAssertNil(verifier.audience)
        XCTAssertEqual(verifier.leewaySeconds, 30)
    }

    func testVerifierFromConfigNamesBadKeyFile() throws {
        let config = try GatewayConfig(toml: """
            [auth]
            mode = "jwt"
            jwt_public_key_file = "\(keys.smallRSAPublic)"
            """)
        XCTAssertThrowsError(try TokenVerifier(auth: config.auth)) { error in
            XCTAssertTrue("\(error)".contains(keys.smallRSAPublic), "\(error)")
        }
    }

    // MARK: - Messages

    func testErrorMessagesSayWhy() {
        XCTAssertEqual(
            TokenError.expired(expiresAt: 100, now: 200, leewaySeconds: 30).description,
            "token expired: exp 100 is before now (200) minus the leeway of 30 s")
        XCTAssertEqual(
            TokenError.algorithmNotAccepted(algorithm: "none", accepted: ["RS256"]).description,
            "token algorithm \"none\" is not accepted; this gateway verifies RS256")
        XCTAssertEqual(TokenError.missingClaim("sub").description, "token has no \"sub\" claim")
        XCTAssertTrue(TokenError.missing.description.contains("?token="))
    }
}
