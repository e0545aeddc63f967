/// A function a plugin may define. The raw values are the field names in the plugin's table.
public enum PluginHook: String, Sendable, Codable, CaseIterable, Comparable {
    case color
    case capacity
    case admit
    case activity
    case filter
    case filterFor = "filter_for"

    public static func < (lhs: PluginHook, rhs: PluginHook) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    /// The names as a sentence fragment for error messages.
    static let knownNames = allCases.map(\.rawValue).joined(separator: ", ")
}

/// The workspaces a plugin applies to.
public enum WorkspaceScope: Sendable, Equatable {
    /// Every workspace, written `"*"`.
    case all
    case only(Set<String>)

    public func contains(_ workspaceID: String) -> Bool {
        switch self {
        case .all: true
        case .only(let workspaces): workspaces.contains(workspaceID)
        }
    }

    /// The scope as listed in status output: `["*"]` or the sorted workspace ids.
    public var listed: [String] {
        switch self {
        case .all: ["*"]
        case .only(let workspaces): workspaces.sorted()
        }
    }
}
