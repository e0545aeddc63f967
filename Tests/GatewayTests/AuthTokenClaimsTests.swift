import Foundation
import XCTest

@testable import Gateway

/// Token structure and claims, checked through an HS256 verifier with tokens whose signatures are
/// valid, so each rejection comes from the part under test.
final class AuthTokenClaimsTests: XCTestCase {
    private var keys: AuthTestKeys { AuthTestKeys.shared }
    private let verifier = TokenVerifier(
        keys: [.hmacSHA256(secret: Array(AuthTestKeys.shared.secret.utf8))], leewaySeconds: 30)
    private var exp: Int { Int(Date().timeIntervalSince1970) + 3600 }

    private func signed(header: String = "{\"alg\":\"HS256\"}", claims: String) throws -> String {
        try keys.token(header: header, claims: claims, signer: .hs256(secret: Array(keys.secret.utf8)))
    }

    private func rejection(_ token: String, file: StaticString = #filePath, line: UInt = #line) -> TokenError? {
        do {
            let claims = try verifier.verify(token)
            XCTFail("expected a rejection, got claims for \(claims.subject)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    private func invalidClaimName(_ token: String, file: StaticString = #filePath, line: UInt = #line) -> String? {
        guard case .invalidClaim(let name, _) = rejection(token, file: file, line: line) else { return nil }
        return name
    }

    // MARK: - Structure

    func testTokenWithoutThreePartsIsRejected() {
        for token in ["abc", "a.b", "a.b.c.d"] {
            guard case .malformed = rejection(token) else { return XCTFail("expected malformed for \(token)") }
        }
    }

    func testEncryptedTokenIsNamed() {
        guard case .malformed(let reason) = rejection("a.b.c.d.e") else { return XCTFail("expected malformed") }
        XCTAssertTrue(reason.contains("JWE"), reason)
    }

    func testEmptyTokenIsMissing() {
        XCTAssertEqual(rejection(""), .missing)
    }

    func testOverlongTokenIsRejected() {
        let token = String(repeating: "A", count: UnverifiedToken.maxLength + 1)
        XCTAssertEqual(rejection(token), .tooLong(length: UnverifiedToken.maxLength + 1, limit: UnverifiedToken.maxLength))
    }

    func testPaddedPartIsRejected() throws {
        let parts = try keys.token("HS256").split(separator: ".").map(String.init)
        guard case .invalidBase64(let part, _) = rejection(parts[0] + "." + parts[1] + "." + parts[2] + "=") else {
            return XCTFail("expected invalid base64")
        }
        XCTAssertEqual(part, .signature)
    }

    func testHeaderThatIsNotJSONIsRejected() throws {
        let token = AuthTestKeys.base64URL(Array("{alg:HS256}".utf8)) + ".e30.AAAA"
        guard case .invalidJSON(let part, _) = rejection(token) else { return XCTFail("expected invalid JSON") }
        XCTAssertEqual(part, .header)
    }

    func testHeaderThatIsAnArrayIsRejected() throws {
        let token = AuthTestKeys.base64URL(Array("[\"HS256\"]".utf8)) + ".e30.AAAA"
        guard case .invalidJSON(_, let reason) = rejection(token) else { return XCTFail("expected invalid JSON") }
        XCTAssertTrue(reason.contains("an array"), reason)
    }

    func testHeaderWithDuplicateAlgIsRejected() throws {
        let token = AuthTestKeys.base64URL(Array("{\"alg\":\"none\",\"alg\":\"HS256\"}".utf8)) + ".e30.AAAA"
        guard case .invalidJSON(.header, let reason) = rejection(token) else { return XCTFail("expected invalid JSON") }
        XCTAssertTrue(reason.contains("duplicate"), reason)
    }

    func testHeaderWithoutAlgIsRejected() throws {
        let token = try signed(header: "{\"typ\":\"JWT\"}", claims: "{}")
        XCTAssertEqual(rejection(token), .invalidHeader("missing \"alg\""))
    }

    func testHeaderWithCritIsRejected() throws {
        let token = try signed(header: "{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}", claims: "{}")
        guard case .invalidHeader(let reason) = rejection(token) else { return XCTFail("expected invalid header") }
        XCTAssertTrue(reason.contains("crit"), reason)
    }

    func testPayloadThatIsNotJSONIsRejected() throws {
        let token = try signed(claims: "{\"sub\":\"u1\",}")
        guard case .invalidJSON(let part, _) = rejection(token) else { return XCTFail("expected invalid JSON") }
        XCTAssertEqual(part, .payload)
    }

    func testPayloadWithInvalidUTF8IsRejected() throws {
        let header = AuthTestKeys.base64URL(Array("{\"alg\":\"HS256\"}".utf8))
        let payload = AuthTestKeys.base64URL(Array("{\"sub\":\"".utf8) + [0xC0, 0x80] + Array("\"}".utf8))
        let mac = AuthTestKeys.hmacSHA256(key: Array(keys.secret.utf8), data: Array((header + "." + payload).utf8))
        guard case .invalidJSON(.payload, _) = rejection(header + "." + payload + "." + AuthTestKeys.base64URL(mac)) else {
            return XCTFail("expected invalid JSON")
        }
    }

    // MARK: - Required claims

    func testMissingSubjectIsRejected() throws {
        XCTAssertEqual(rejection(try keys.token("HS256", removing: ["sub"])), .missingClaim("sub"))
    }

    func testMissingExpiryIsRejected() throws {
        XCTAssertEqual(rejection(try keys.token("HS256", removing: ["exp"])), .missingClaim("exp"))
    }

    func testMissingWorkspaceIsRejected() throws {
        guard case .missingClaim(let name) = rejection(try keys.token("HS256", removing: ["workspace_id"])) else {
            return XCTFail("expected a missing claim")
        }
        XCTAssertTrue(name.contains("workspaces"), name)
    }

    func testSubjectOfWrongTypeIsRejected() throws {
        XCTAssertEqual(invalidClaimName(try keys.token("HS256", claims: ["sub": 42])), "sub")
    }

    func testEmptySubjectIsRejected() throws {
        XCTAssertEqual(invalidClaimName(try keys.token("HS256", claims: ["sub": ""])), "sub")
    }

    func testOverlongSubjectIsRejected() throws {
        let long = String(repeating: "u", count: TokenClaims.maxIDBytes + 1)
        XCTAssertEqual(invalidClaimName(try keys.token("HS256", claims: ["sub": long])), "sub")
    }

    func testSubjectWithControlCharacterIsRejected() throws {
        XCTAssertEqual(invalidClaimName(try keys.token("HS256", claims: ["sub": "u\n1"])), "sub")
    }

    func testExpiryOfWrongTypeIsRejected() throws {
        XCTAssertEqual(invalidClaimName(try keys.token("HS256", claims: ["exp": "tomorrow"])), "exp")
    }

    func testOverlongNameIsRejected() throws {
        let long = String(repeating: "n", count: TokenClaims.maxNameCharacters + 1)
        XCTAssertEqual(invalidClaimName(try keys.token("HS256", claims: ["name": long])), "name")
    }

    // MARK: - Identity and access claims

    func testNameDefaultsToSubject() throws {
        let claims = try verifier.verify(try keys.token("HS256", removing: ["name"]))
        XCTAssertNil(claims.name)
        XCTAssertEqual(claims.displayName, "u1")
    }

    func testPictureFillsAvatarURL() throws {
        let claims = try verifier.verify(try keys.token("HS256", claims: ["picture": "https://example.com/p.png"]))
        XCTAssertEqual(claims.avatarURL, "https://example.com/p.png")
    }

    func testAvatarURLWinsOverPicture() throws {
        let token = try keys.token("HS256", claims: ["picture": "https://example.com/p.png", "avatar_url": "https://example.com/a.png"])
        XCTAssertEqual(try verifier.verify(token).avatarURL, "https://example.com/a.png")
    }

    func testWorkspacesArrayIsMergedWithWorkspaceID() throws {
        let token = try keys.token("HS256", claims: ["workspaces": ["w2", "w1", "w3"]])
        XCTAssertEqual(try verifier.verify(token).workspaces, ["w1", "w2", "w3"])
    }

    func testWorkspacesArrayAloneIsEnough() throws {
        let token = try keys.token("HS256", claims: ["workspaces": ["w2"]], removing: ["workspace_id"])
        XCTAssertEqual(try verifier.verify(token).workspaces, ["w2"])
    }

    func testWorkspacesOfWrongTypeAreRejected() throws {
        XCTAssertEqual(invalidClaimName(try keys.token("HS256", claims: ["workspaces": "w2"])), "workspaces")
        XCTAssertEqual(invalidClaimName(try keys.token("HS256", claims: ["workspaces": ["w2", 3]])), "workspaces[1]")
    }

    func testEmptyDocumentsListIsRejected() throws {
        XCTAssertEqual(invalidClaimName(try keys.token("HS256", claims: ["documents": [String]()])), "documents")
    }

    func testClaimsAllowJoinInTheirWorkspaces() throws {
        let claims = try verifier.verify(try keys.token("HS256", claims: ["workspaces": ["w2"]]))
        XCTAssertTrue(claims.allowsJoin(workspaceID: "w1", documentID: "any"))
        XCTAssertTrue(claims.allowsJoin(workspaceID: "w2", documentID: "any"))
        XCTAssertFalse(claims.allowsJoin(workspaceID: "w3", documentID: "any"))
    }

    func testDocumentsClaimNarrowsJoins() throws {
        let claims = try verifier.verify(try keys.token("HS256", claims: ["documents": ["d1", "d2"]]))
        XCTAssertTrue(claims.allowsJoin(workspaceID: "w1", documentID: "d1"))
        XCTAssertTrue(claims.allowsJoin(workspaceID: "w1", documentID: "d2"))
        XCTAssertFalse(claims.allowsJoin(workspaceID: "w1", documentID: "d3"))
        XCTAssertFalse(claims.allowsJoin(workspaceID: "w9", documentID: "d1"))
    }

    func testUnknownClaimsAreIgnored() throws {
        let token = try keys.token("HS256", claims: ["roles": ["editor"], "realm": ["nested": ["deep": true]]])
        XCTAssertEqual(try verifier.verify(token).subject, "u1")
    }
}
