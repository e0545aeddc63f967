import Observability
import PresenceCore
import Transport

/// The identity a WebSocket client proved at the upgrade.
enum ClientCredentials: Sendable, Equatable {
    /// `[auth] mode = "none"`: each join message names its own user.
    case unauthenticated
    /// `[auth] mode = "jwt"`: a verified token fixes the user and what they may join.
    case token(TokenClaims)

    /// Returns the milliseconds from `nowMs` (wall clock, since the Unix epoch) until the token stops
    /// being valid, 0 when it already has, or nil without a token.
    func millisecondsUntilExpiry(nowMs: UInt64) -> UInt64? {
        guard case .token(let claims) = self else { return nil }
        let remainingMs = claims.validUntil * 1000 - Double(nowMs)
        guard remainingMs > 0 else { return 0 }
        return UInt64(min(remainingMs.rounded(.up), Double(UInt64.max / 2)))
    }

    /// Builds the identity of a join. With a token, the token's user id, name and avatar replace the
    /// message's, which may leave them out, and the join must fall inside the token's workspaces and
    /// documents. Without a token the message must carry `user_id` and `name`.
    ///
    /// - Throws: `Forbidden` naming the workspace or document the token does not allow, and
    ///   `InvalidMessage` naming the missing field of a join without a token.
    func identity(
        documentID: String, workspaceID: String, userID: String?, name: String?, avatarURL: String?
    ) throws(PresenceError) -> UserIdentity {
        switch self {
        case .unauthenticated:
            guard let userID else {
                throw .invalidMessage(
                    "missing field \"user_id\" in a join message; it is required on a connection without a token")
            }
            guard let name else {
                throw .invalidMessage(
                    "missing field \"name\" in a join message; it is required on a connection without a token")
            }
            return UserIdentity(userID: userID, workspaceID: workspaceID, name: name, avatarURL: avatarURL)
        case .token(let claims):
            guard claims.workspaces.contains(workspaceID) else {
                throw PresenceError(
                    code: .forbidden,
                    message: "your token does not allow workspace \"\(TokenError.clip(workspaceID))\"; it allows "
                        + claims.workspaces.prefix(8).map { "\"\(TokenError.clip($0))\"" }.joined(separator: ", "))
            }
            guard claims.allowsJoin(workspaceID: workspaceID, documentID: documentID) else {
                throw PresenceError(
                    code: .forbidden,
                    message: "your token does not allow document \"\(TokenError.clip(documentID))\"; its documents claim lists the documents you may join")
            }
            return UserIdentity(
                userID: claims.subject, workspaceID: workspaceID, name: claims.displayName, avatarURL: claims.avatarURL)
        }
    }
}

/// Checks the credentials of each WebSocket upgrade on the public listener.
///
/// In jwt mode a request without a valid token gets 401 with the reason in the body, so it never
/// reaches a session or a room. In mode none every request passes, and the gateway logs a warning at start.
struct ClientAuthenticator: Sendable {
    /// nil in mode none.
    let verifier: TokenVerifier?
    private let logger: Logger
    /// Rejections are logged at most 10 a minute per reason, because anyone can send bad tokens.
    private let rejectionLog = LogRateLimiter(maxPerInterval: 10, intervalMs: 60_000)
    private let rejections: CounterFamily

    init(verifier: TokenVerifier?, registry: MetricsRegistry, logger: Logger) {
        self.verifier = verifier
        self.logger = logger
        rejections = registry.counter(
            "presence_auth_rejections_total", help: "WebSocket upgrades rejected with 401, by reason", labels: ["reason"])
    }

    /// Builds the authenticator of `[auth]`, loading the key in jwt mode.
    init(auth: GatewayConfig.Auth, registry: MetricsRegistry, logger: Logger) throws(TokenVerifier.SetupError) {
        let verifier: TokenVerifier? = auth.mode == .jwt ? try TokenVerifier(auth: auth) : nil
        self.init(verifier: verifier, registry: registry, logger: logger)
    }

    /// Returns the client's credentials, or the reason for the 401 (`unauthorized`) that ends the handshake.
    func authenticate(_ head: HTTPRequestHead, remoteAddress: String) -> Result<ClientCredentials, TokenError> {
        guard let verifier else { return .success(.unauthenticated) }
        do throws(TokenError) {
            let token = try Self.bearerToken(in: head)
            return .success(.token(try verifier.verify(token)))
        } catch {
            rejections.labels(error.code).increment()
            logger.log(
                .info, "WebSocket upgrade rejected: \(error)",
                metadata: ["remote.address": remoteAddress, "auth.reason": error.code],
                limitedBy: rejectionLog, key: error.code)
            return .failure(error)
        }
    }

    /// Reads the token from `?token=` or `Authorization: Bearer`. RFC 6750 section 2 allows one
    /// method per request, so a request with both is rejected rather than guessing which counts.
    static func bearerToken(in head: HTTPRequestHead) throws(TokenError) -> String {
        let queryToken = head.queryItems["token"]
        var headerToken: String? = nil
        if let authorization = head.header("Authorization") {
            let scheme = authorization.prefix { $0 != " " }
            guard scheme.lowercased() == "bearer" else {
                throw .malformed("the Authorization header uses scheme \"\(TokenError.clip(String(scheme)))\"; send Authorization: Bearer <JWT>")
            }
            headerToken = String(authorization.dropFirst(scheme.count).drop { $0 == " " })
        }
        switch (queryToken, headerToken) {
        case (nil, nil):
            throw .missing
        case (let token?, nil), (nil, let token?):
            guard !token.isEmpty else { throw .missing }
            return token
        case (_?, _?):
            throw .malformed("the request carries a token both in ?token= and in the Authorization header; send it once")
        }
    }

    /// Builds the 401 response: `WWW-Authenticate` as RFC 6750 section 3 defines it, and the reason as
    /// the body.
    static func unauthorized(_ error: TokenError) -> HTTPResponse {
        let challenge = error == .missing ? "Bearer realm=\"presence\"" : "Bearer realm=\"presence\", error=\"invalid_token\""
        return .text(401, error.description, headers: [("WWW-Authenticate", challenge)])
    }
}
