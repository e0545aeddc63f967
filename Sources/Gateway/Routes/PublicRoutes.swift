import Observability
import Transport

/// The public listener's routes: the presence WebSocket, the optional echo endpoint, static files.
struct PublicRoutes: Sendable {
    let service: PresenceService
    let live: LiveSettings
    let authenticator: ClientAuthenticator
    let echoPath: String
    let staticFiles: StaticFiles?
    let logger: Logger

    func route(_ request: HTTPRequest, _ connection: Connection) -> HTTPRouteResult {
        let path = request.head.path
        if path == "/v1/ws" {
            let service = self.service
            let settings = live.session
            let logger = self.logger
            var batchMs: UInt64 = 0
            if let text = request.head.queryItems["batch_ms"] {
                guard let value = UInt64(text), value <= 1000 else {
                    return .respond(.text(400, "batch_ms must be an integer from 0 to 1000 (milliseconds), got \"\(text)\""))
                }
                batchMs = value
            }
            let credentials: ClientCredentials
            switch authenticator.authenticate(request.head, remoteAddress: "\(connection.remoteAddress)") {
            case .success(let value): credentials = value
            case .failure(let error): return .respond(ClientAuthenticator.unauthorized(error))
            }
            return .webSocket { _ in
                ClientSession(service: service, settings: settings, logger: logger, batchMs: batchMs, credentials: credentials)
            }
        }
        if !echoPath.isEmpty && path == echoPath {
            return .webSocket { _ in EchoHandler() }
        }
        if let staticFiles {
            guard request.head.method == "GET" || request.head.method == "HEAD" else {
                return .respond(.text(405, "use GET", headers: [("Allow", "GET, HEAD")]))
            }
            if let response = staticFiles.response(for: path) { return .respond(response) }
        }
        return .respond(.text(404, "no route for \(path); presence clients connect to /v1/ws"))
    }
}
