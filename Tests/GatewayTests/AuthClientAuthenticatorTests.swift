import Foundation
import Observability
import PresenceCore
import Transport
import XCTest

@testable import Gateway

final class AuthClientAuthenticatorTests: XCTestCase {
    private var keys: AuthTestKeys { AuthTestKeys.shared }

    private func head(target: String = "/v1/ws", headers: [(name: String, value: String)] = []) -> HTTPRequestHead {
        HTTPRequestHead(method: "GET", target: target, version: "HTTP/1.1", headers: headers)
    }

    private func jwtAuthenticator() -> ClientAuthenticator {
        let verifier = TokenVerifier(keys: [.hmacSHA256(secret: Array(keys.secret.utf8))], leewaySeconds: 30)
        return ClientAuthenticator(verifier: verifier, registry: MetricsRegistry(), logger: Logger(label: "test"))
    }

    private func claims(_ extra: [String: Any] = [:]) throws -> TokenClaims {
        let verifier = TokenVerifier(keys: [.hmacSHA256(secret: Array(keys.secret.utf8))], leewaySeconds: 30)
        return try verifier.verify(try keys.token("HS256", claims: extra))
    }

    // MARK: - Finding the token

    func testTokenIsReadFromQuery() throws {
        XCTAssertEqual(try ClientAuthenticator.bearerToken(in: head(target: "/v1/ws?token=a.b.c&x=1")), "a.b.c")
    }

    func testTokenIsReadFromBearerHeader() throws {
        XCTAssertEqual(try ClientAuthenticator.bearerToken(in: head(headers: [("Authorization", "Bearer a.b.c")])), "a.b.c")
        XCTAssertEqual(try ClientAuthenticator.bearerToken(in: head(headers: [("authorization", "bearer  a.b.c")])), "a.b.c")
    }

    func testMissingTokenIsRejected() {
        XCTAssertThrowsError(try ClientAuthenticator.bearerToken(in: head())) { error in
            XCTAssertEqual(error as? TokenError, .missing)
        }
        XCTAssertThrowsError(try ClientAuthenticator.bearerToken(in: head(target: "/v1/ws?token="))) { error in
            XCTAssertEqual(error as? TokenError, .missing)
        }
    }

    func testOtherAuthorizationSchemeIsRejected() {
        XCTAssertThrowsError(try ClientAuthenticator.bearerToken(in: head(headers: [("Authorization", "Basic dTpw")]))) { error in
            guard case .malformed(let reason) = error as? TokenError else { return XCTFail("expected malformed, got \(error)") }
            XCTAssertTrue(reason.contains("\"Basic\""), reason)
        }
    }

    func testTokenInBothPlacesIsRejected() {
        let request = head(target: "/v1/ws?token=a.b.c", headers: [("Authorization", "Bearer a.b.c")])
        XCTAssertThrowsError(try ClientAuthenticator.bearerToken(in: request)) { error in
            guard case .malformed = error as? TokenError else { return XCTFail("expected malformed, got \(error)") }
        }
    }

    // MARK: - Authenticating

    func testModeNoneAcceptsEveryRequest() {
        let authenticator = ClientAuthenticator(verifier: nil, registry: MetricsRegistry(), logger: Logger(label: "test"))
        XCTAssertEqual(try authenticator.authenticate(head(), remoteAddress: "127.0.0.1:1").get(), .unauthenticated)
    }

    func testValidTokenGivesClaims() throws {
        let token = try keys.token("HS256")
        let credentials = try jwtAuthenticator().authenticate(head(target: "/v1/ws?token=\(token)"), remoteAddress: "127.0.0.1:1").get()
        guard case .token(let claims) = credentials else { return XCTFail("expected token credentials") }
        XCTAssertEqual(claims.subject, "u1")
    }

    func testInvalidTokenGivesReason() throws {
        let token = try keys.token("HS256", claims: ["exp": 1000])
        let result = jwtAuthenticator().authenticate(head(headers: [("Authorization", "Bearer \(token)")]), remoteAddress: "127.0.0.1:1")
        guard case .failure(.expired) = result else { return XCTFail("expected an expiry rejection, got \(result)") }
    }

    func testRejectionsAreCountedByReason() throws {
        let registry = MetricsRegistry()
        let verifier = TokenVerifier(keys: [.hmacSHA256(secret: Array(keys.secret.utf8))], leewaySeconds: 30)
        let authenticator = ClientAuthenticator(verifier: verifier, registry: registry, logger: Logger(label: "test"))
        _ = authenticator.authenticate(head(), remoteAddress: "127.0.0.1:1")
        _ = authenticator.authenticate(head(target: "/v1/ws?token=x.y.z"), remoteAddress: "127.0.0.1:1")
        let text = registry.render()
        XCTAssertTrue(text.contains("presence_auth_rejections_total{reason=\"missing\"} 1"), text)
        XCTAssertTrue(text.contains("presence_auth_rejections_total{reason=\"invalid_base64\"} 1"), text)
    }

    func testUnauthorizedResponseCarriesReason() {
        let response = ClientAuthenticator.unauthorized(.invalidSignature)
        XCTAssertEqual(response.status, 401)
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), "invalid token signature\n")
        let challenge = response.headers.first { $0.name == "WWW-Authenticate" }?.value
        XCTAssertEqual(challenge, "Bearer realm=\"presence\", error=\"invalid_token\"")
        XCTAssertEqual(
            ClientAuthenticator.unauthorized(.missing).headers.first { $0.name == "WWW-Authenticate" }?.value,
            "Bearer realm=\"presence\"")
    }

    // MARK: - Expiry

    func testExpiryIncludesLeeway() throws {
        let token = try keys.token("HS256", claims: ["exp": 2_000_000_000])
        let verifier = TokenVerifier(keys: [.hmacSHA256(secret: Array(keys.secret.utf8))], leewaySeconds: 30)
        let credentials = ClientCredentials.token(try verifier.verify(token, now: 1_999_999_000))
        XCTAssertEqual(credentials.millisecondsUntilExpiry(nowMs: 1_999_999_000_000), 1_030_000)
        XCTAssertEqual(credentials.millisecondsUntilExpiry(nowMs: 2_000_000_030_000), 0)
        XCTAssertEqual(credentials.millisecondsUntilExpiry(nowMs: 2_000_000_031_000), 0)
    }

    func testModeNoneNeverExpires() {
        XCTAssertNil(ClientCredentials.unauthenticated.millisecondsUntilExpiry(nowMs: 0))
    }

    // MARK: - Joins

    func testModeNoneTakesIdentityFromJoin() throws {
        let identity = try ClientCredentials.unauthenticated.identity(
            documentID: "d1", workspaceID: "w1", userID: "mallory", name: "Mallory", avatarURL: nil)
        XCTAssertEqual(identity, UserIdentity(userID: "mallory", workspaceID: "w1", name: "Mallory", avatarURL: nil))
    }

    func testTokenIdentityOverridesJoinFields() throws {
        let credentials = ClientCredentials.token(try claims(["avatar_url": "https://example.com/a.png"]))
        let identity = try credentials.identity(
            documentID: "d1", workspaceID: "w1", userID: "mallory", name: "Mallory", avatarURL: "https://evil.example/x.png")
        XCTAssertEqual(identity.userID, "u1")
        XCTAssertEqual(identity.name, "Ada")
        XCTAssertEqual(identity.avatarURL, "https://example.com/a.png")
        XCTAssertEqual(identity.workspaceID, "w1")
    }

    func testTokenJoinMayOmitUserAndName() throws {
        let credentials = ClientCredentials.token(try claims())
        let identity = try credentials.identity(documentID: "d1", workspaceID: "w1", userID: nil, name: nil, avatarURL: nil)
        XCTAssertEqual(identity.userID, "u1")
        XCTAssertEqual(identity.name, "Ada")
    }

    func testJoinWithoutTokenNeedsUserAndName() {
        let credentials = ClientCredentials.unauthenticated
        XCTAssertThrowsError(
            try credentials.identity(documentID: "d1", workspaceID: "w1", userID: nil, name: "Ada", avatarURL: nil)
        ) { error in
            XCTAssertEqual((error as? PresenceError)?.code, .invalidMessage)
            XCTAssertEqual(
                (error as? PresenceError)?.message,
                "missing field \"user_id\" in a join message; it is required on a connection without a token")
        }
        XCTAssertThrowsError(
            try credentials.identity(documentID: "d1", workspaceID: "w1", userID: "u1", name: nil, avatarURL: nil)
        ) { error in
            XCTAssertEqual(
                (error as? PresenceError)?.message,
                "missing field \"name\" in a join message; it is required on a connection without a token")
        }
    }

    func testJoinOutsideTokenWorkspacesIsForbidden() throws {
        let credentials = ClientCredentials.token(try claims())
        XCTAssertThrowsError(
            try credentials.identity(documentID: "d1", workspaceID: "w2", userID: "u1", name: "Ada", avatarURL: nil)
        ) { error in
            let presenceError = error as? PresenceError
            XCTAssertEqual(presenceError?.code, .forbidden)
            XCTAssertTrue(presenceError?.message.contains("\"w2\"") ?? false, "\(error)")
        }
    }

    func testJoinOutsideTokenDocumentsIsForbidden() throws {
        let credentials = ClientCredentials.token(try claims(["documents": ["d1"]]))
        XCTAssertNoThrow(try credentials.identity(documentID: "d1", workspaceID: "w1", userID: "u1", name: "Ada", avatarURL: nil))
        XCTAssertThrowsError(
            try credentials.identity(documentID: "d2", workspaceID: "w1", userID: "u1", name: "Ada", avatarURL: nil)
        ) { error in
            let presenceError = error as? PresenceError
            XCTAssertEqual(presenceError?.code, .forbidden)
            XCTAssertTrue(presenceError?.message.contains("\"d2\"") ?? false, "\(error)")
        }
    }
}
