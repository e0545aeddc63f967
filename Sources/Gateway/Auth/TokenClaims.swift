/// The claims of a token that the gateway uses: who the user is, what they may join, and when the
/// token is valid. Values follow the join message's limits, so a token cannot carry an identity
/// that a join in development mode could not. The token's length limit bounds the lists.
struct TokenClaims: Sendable, Equatable {
    /// Maximum length of `sub`, `workspace_id` and each listed workspace or document, in UTF-8 bytes.
    static let maxIDBytes = 128
    /// Maximum length of `name`, in Unicode code points.
    static let maxNameCharacters = 256
    /// Maximum length of `avatar_url` or `picture`, in UTF-8 bytes.
    static let maxAvatarURLBytes = 2048

    /// `sub`: the user id.
    var subject: String
    /// `name`, when present.
    var name: String?
    /// `avatar_url`, or `picture` (the OpenID Connect name) when `avatar_url` is absent.
    var avatarURL: String?
    /// `workspace_id` and the entries of `workspaces`, without duplicates, never empty.
    var workspaces: [String]
    /// `documents`: when present, the only documents the user may join (never empty).
    var documents: [String]?
    /// `iss`, when present.
    var issuer: String?
    /// `aud` as a list: one entry for a string, each entry for an array, empty when absent.
    var audiences: [String]
    /// `exp`, in seconds since the Unix epoch. Required, because a token without one never expires.
    var expiresAt: Double
    /// `nbf`, in seconds since the Unix epoch.
    var notBefore: Double?
    /// The last instant the gateway accepts the token: `exp` plus the verifier's leeway, in seconds
    /// since the Unix epoch. A connection is closed when it passes.
    var validUntil: Double

    /// The name shown to other members: `name`, or the user id when the token has none.
    var displayName: String { name ?? subject }

    /// Returns whether a user holding these claims may join `documentID` in `workspaceID`.
    func allowsJoin(workspaceID: String, documentID: String) -> Bool {
        guard workspaces.contains(workspaceID) else { return false }
        guard let documents else { return true }
        return documents.contains(documentID)
    }

    /// Reads the claims from the payload object.
    init(_ payload: [String: TokenJSON]) throws(TokenError) {
        guard let subjectValue = payload["sub"] else { throw .missingClaim("sub") }
        subject = try Self.id(subjectValue, claim: "sub")

        name = nil
        if let value = payload["name"], value != .null {
            name = try Self.displayName(value)
        }

        avatarURL = nil
        if let value = payload["avatar_url"], value != .null {
            avatarURL = try Self.url(value, claim: "avatar_url")
        } else if let value = payload["picture"], value != .null {
            avatarURL = try Self.url(value, claim: "picture")
        }

        var workspaces: [String] = []
        if let value = payload["workspace_id"] {
            workspaces.append(try Self.id(value, claim: "workspace_id"))
        }
        if let value = payload["workspaces"] {
            for workspace in try Self.idList(value, claim: "workspaces") where !workspaces.contains(workspace) {
                workspaces.append(workspace)
            }
        }
        guard !workspaces.isEmpty else {
            throw .missingClaim("workspace_id\" or \"workspaces")
        }
        self.workspaces = workspaces

        documents = nil
        if let value = payload["documents"] {
            let list = try Self.idList(value, claim: "documents")
            guard !list.isEmpty else {
                throw .invalidClaim(name: "documents", reason: "an empty array allows no document. Omit the claim to allow every document of the workspaces")
            }
            documents = list
        }

        issuer = nil
        if let value = payload["iss"] {
            guard case .string(let text) = value else {
                throw .invalidClaim(name: "iss", reason: "must be a string, got \(value.typeDescription)")
            }
            issuer = text
        }

        audiences = []
        if let value = payload["aud"] {
            audiences = try Self.audienceList(value)
        }

        guard let expiresValue = payload["exp"] else { throw .missingClaim("exp") }
        expiresAt = try Self.numericDate(expiresValue, claim: "exp")
        validUntil = expiresAt
        notBefore = nil
        if let value = payload["nbf"] {
            notBefore = try Self.numericDate(value, claim: "nbf")
        }
    }

    // MARK: - Claim values

    private static func string(_ value: TokenJSON, claim: String) throws(TokenError) -> String {
        guard case .string(let text) = value else {
            throw .invalidClaim(name: claim, reason: "must be a string, got \(value.typeDescription)")
        }
        guard !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else {
            throw .invalidClaim(name: claim, reason: "must not contain control characters")
        }
        return text
    }

    private static func id(_ value: TokenJSON, claim: String) throws(TokenError) -> String {
        let text = try string(value, claim: claim)
        let length = text.utf8.count
        guard length >= 1, length <= maxIDBytes else {
            throw .invalidClaim(name: claim, reason: "must be 1 to \(maxIDBytes) bytes long, got \(length)")
        }
        return text
    }

    private static func displayName(_ value: TokenJSON) throws(TokenError) -> String {
        let text = try string(value, claim: "name")
        let count = text.unicodeScalars.count
        guard count >= 1, count <= maxNameCharacters else {
            throw .invalidClaim(name: "name", reason: "must be 1 to \(maxNameCharacters) characters long, got \(count)")
        }
        return text
    }

    private static func url(_ value: TokenJSON, claim: String) throws(TokenError) -> String {
        let text = try string(value, claim: claim)
        guard text.utf8.count <= maxAvatarURLBytes else {
            throw .invalidClaim(name: claim, reason: "must be at most \(maxAvatarURLBytes) bytes long, got \(text.utf8.count)")
        }
        return text
    }

    private static func idList(_ value: TokenJSON, claim: String) throws(TokenError) -> [String] {
        guard case .array(let elements) = value else {
            throw .invalidClaim(name: claim, reason: "must be an array of strings, got \(value.typeDescription)")
        }
        var list: [String] = []
        list.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            list.append(try id(element, claim: "\(claim)[\(index)]"))
        }
        return list
    }

    /// RFC 7519 section 4.1.3: `aud` is one string or an array of strings.
    private static func audienceList(_ value: TokenJSON) throws(TokenError) -> [String] {
        switch value {
        case .string(let text):
            return [text]
        case .array(let elements):
            var list: [String] = []
            for element in elements {
                guard case .string(let text) = element else {
                    throw .invalidClaim(name: "aud", reason: "array entries must be strings, got \(element.typeDescription)")
                }
                list.append(text)
            }
            return list
        default:
            throw .invalidClaim(name: "aud", reason: "must be a string or an array of strings, got \(value.typeDescription)")
        }
    }

    /// RFC 7519 section 2: a NumericDate is seconds since the epoch and may have a fraction.
    private static func numericDate(_ value: TokenJSON, claim: String) throws(TokenError) -> Double {
        guard case .number(let number) = value else {
            throw .invalidClaim(name: claim, reason: "must be a number of seconds since the Unix epoch, got \(value.typeDescription)")
        }
        // A number beyond the range of a double parses as an infinity; an `exp` of infinity would never expire.
        guard number.doubleValue.isFinite else {
            throw .invalidClaim(name: claim, reason: "must be a finite number of seconds since the Unix epoch, got \(number.text)")
        }
        return number.doubleValue
    }
}
