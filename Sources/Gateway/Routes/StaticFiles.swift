import Foundation
import Transport

/// Serves files under a root folder for GET and HEAD: the demo page and the browser client.
///
/// Request paths are split into segments and any segment that is empty, `.` or `..`, or that starts
/// with a dot, is rejected, so a request cannot leave the root. Symbolic links inside the root are
/// followed (the demo links `client` to the client library's folder).
struct StaticFiles: Sendable {
    let root: String

    static let contentTypes: [String: String] = [
        "html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8",
        "mjs": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
        "json": "application/json", "png": "image/png", "svg": "image/svg+xml",
        "ico": "image/x-icon", "ts": "text/plain; charset=utf-8", "txt": "text/plain; charset=utf-8",
    ]

    /// Returns the file's response, or nil when no file matches (the caller responds 404).
    func response(for path: String) -> HTTPResponse? {
        var segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        if segments.last == "" { segments[segments.count - 1] = "index.html" }
        if segments.isEmpty { segments = ["index.html"] }
        for segment in segments where segment.isEmpty || segment.hasPrefix(".") || segment.contains("\0") {
            return nil
        }
        let decoded = segments.map { $0.removingPercentEncoding ?? $0 }
        guard !decoded.contains(where: { $0.contains("/") || $0.hasPrefix(".") }) else { return nil }
        let filePath = root + "/" + decoded.joined(separator: "/")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: filePath, isDirectory: &isDirectory), !isDirectory.boolValue,
              let data = FileManager.default.contents(atPath: filePath) else {
            return nil
        }
        let fileExtension = (filePath as NSString).pathExtension.lowercased()
        return HTTPResponse(status: 200, headers: [
            ("Content-Type", Self.contentTypes[fileExtension] ?? "application/octet-stream"),
            ("Cache-Control", "no-cache"),
        ], body: [UInt8](data))
    }
}
