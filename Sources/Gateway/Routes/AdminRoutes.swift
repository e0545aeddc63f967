import Foundation
import Observability
import PresenceCore
import Transport

/// The admin listener's routes: presence queries for other services, health, metrics and plugins.
///
/// With a token configured, every route but `/healthz` requires `Authorization: Bearer <token>`.
struct AdminRoutes: Sendable {
    let store: PresenceStore
    let registry: MetricsRegistry
    let token: String
    let clock: SystemClock
    /// Returns whether the node is ready and a short status word (`ready`, `degraded`, `stopping`).
    let readiness: @Sendable () -> (ready: Bool, status: String)
    /// Returns the plugin list as JSON, or nil when plugins are off.
    let pluginStatus: @Sendable () -> [UInt8]?
    /// Reloads plugins and returns the summary as JSON, or nil when plugins are off.
    let reloadPlugins: @Sendable () -> [UInt8]?

    func route(_ request: HTTPRequest, _ connection: Connection) -> HTTPRouteResult {
        let path = request.head.path
        let method = request.head.method
        if path == "/healthz" {
            return get(method) ?? .respond(.json(200, Array(#"{"status":"ok"}"#.utf8)))
        }
        if !token.isEmpty && !authorized(request.head) {
            return .respond(.text(401, "missing or invalid admin token; send Authorization: Bearer <[admin] token>",
                                  headers: [("WWW-Authenticate", "Bearer")]))
        }
        switch path {
        case "/readyz":
            if let wrong = get(method) { return wrong }
            let (ready, status) = readiness()
            return .respond(.json(ready ? 200 : 503, Array(#"{"status":"\#(status)"}"#.utf8)))
        case "/metrics":
            if let wrong = get(method) { return wrong }
            return .respond(HTTPResponse(status: 200, headers: [("Content-Type", MetricsRegistry.contentType)],
                                         body: Array(registry.render().utf8)))
        case "/admin/plugins":
            if let wrong = get(method) { return wrong }
            guard let body = pluginStatus() else { return .respond(.text(404, "plugins are disabled ([plugins] enabled = false)")) }
            return .respond(.json(200, body))
        case "/admin/plugins/reload":
            guard method == "POST" else { return .respond(.text(405, "use POST", headers: [("Allow", "POST")])) }
            guard let body = reloadPlugins() else { return .respond(.text(404, "plugins are disabled ([plugins] enabled = false)")) }
            return .respond(.json(200, body))
        default:
            break
        }
        let prefix = "/internal/presence/"
        guard path.hasPrefix(prefix) else { return .respond(.text(404, "no route for \(path)")) }
        if let wrong = get(method) { return wrong }
        let rest = path.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false).map {
            String($0).removingPercentEncoding ?? String($0)
        }
        if rest.count == 3, rest[0] == "workspace", rest[2] == "documents", !rest[1].isEmpty {
            return workspaceDocuments(rest[1])
        }
        if rest.count == 2, rest[0] == "user", !rest[1].isEmpty {
            return userDocuments(rest[1])
        }
        if rest.count == 1, !rest[0].isEmpty {
            return documentPresence(rest[0])
        }
        return .respond(.text(404, "no route for \(path)"))
    }

    private func get(_ method: String) -> HTTPRouteResult? {
        method == "GET" || method == "HEAD" ? nil : .respond(.text(405, "use GET", headers: [("Allow", "GET, HEAD")]))
    }

    private func authorized(_ head: HTTPRequestHead) -> Bool {
        guard let value = head.header("Authorization"), value.hasPrefix("Bearer ") else { return false }
        return constantTimeEqual(Array(value.dropFirst(7).utf8), Array(token.utf8))
    }

    private func documentPresence(_ documentID: String) -> HTTPRouteResult {
        let clock = self.clock
        return .deferred { responder in
            store.documentPresence(documentID: documentID) { result in
                switch result {
                case .success(let users):
                    let summaries = users.map(UserPresenceSummary.init)
                    let response = DocumentPresenceResponse(documentID: documentID, activeUsers: summaries,
                                                            totalCount: summaries.count, timestamp: clock.wallMs)
                    responder.respond(.json(200, encodeJSON(response)))
                case .failure(let error):
                    responder.respond(.text(503, "presence store unavailable: \(error.message)"))
                }
            }
        }
    }

    private func workspaceDocuments(_ workspaceID: String) -> HTTPRouteResult {
        let clock = self.clock
        return .deferred { responder in
            store.activeDocuments(workspaceID: workspaceID) { result in
                switch result {
                case .success(let documents):
                    let body = WorkspaceDocumentsResponse(
                        workspaceID: workspaceID,
                        documents: documents.map { .init(documentID: $0.documentID, activeUsers: $0.userCount) },
                        timestamp: clock.wallMs)
                    responder.respond(.json(200, encodeJSON(body)))
                case .failure(let error):
                    responder.respond(.text(503, "presence store unavailable: \(error.message)"))
                }
            }
        }
    }

    private func userDocuments(_ userID: String) -> HTTPRouteResult {
        let clock = self.clock
        return .deferred { responder in
            store.documents(userID: userID) { result in
                switch result {
                case .success(let documents):
                    let body = UserDocumentsResponse(
                        userID: userID,
                        documents: documents.map { .init(documentID: $0.documentID, lastActiveAt: $0.lastActiveAt) },
                        timestamp: clock.wallMs)
                    responder.respond(.json(200, encodeJSON(body)))
                case .failure(let error):
                    responder.respond(.text(503, "presence store unavailable: \(error.message)"))
                }
            }
        }
    }
}

/// Compares without an early exit, so the time taken does not reveal how much of a token matched.
func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    var difference = UInt8(lhs.count == rhs.count ? 0 : 1)
    for index in 0..<max(lhs.count, rhs.count) {
        let left = index < lhs.count ? lhs[index] : 0
        let right = index < rhs.count ? rhs[index] : 0
        difference |= left ^ right
    }
    return difference == 0
}

func encodeJSON<T: Encodable>(_ value: T) -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return (try? Array(encoder.encode(value))) ?? Array(#"{"error":"encoding failed"}"#.utf8)
}
