import Observability
import Transport

/// The public listener's routes: the presence WebSocket, the optional echo endpoint, static files.
struct PublicRoutes: Sendable {
    let service: PresenceService
    let settings: SessionSettings
    let echoPath: String
    let staticFiles: StaticFiles?
    let logger: Logger

    func route(_ request: HTTPRequest, _ connection: Connection) -> HTTPRouteResult {
        let path = request.head.path
        if path == "/v1/ws" {
            let service = self.service
            let settings = self.settings
            let logger = self.logger
            return .webSocket { _ in ClientSession(service: service, settings: settings, logger: logger) }
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
