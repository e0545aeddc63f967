/// The validated declarations of a plugin: the fields of the table its file returns.
public struct PluginDefinition: Sendable, Equatable {
    /// Unique among loaded plugins. Used in logs, metric labels and `[plugins.config.NAME]`.
    public var name: String
    /// Higher runs first; ties run in name order.
    public var priority: Int
    public var workspaces: WorkspaceScope
    public var hooks: Set<PluginHook>
    /// When true, a fault in `filter` or `filter_for` drops the event instead of passing it on.
    public var failClosed: Bool

    /// Maximum length of a plugin name in bytes.
    public static let maxNameLength = 64

    public init(
        name: String, priority: Int = 0, workspaces: WorkspaceScope = .all, hooks: Set<PluginHook>,
        failClosed: Bool = false
    ) {
        self.name = name
        self.priority = priority
        self.workspaces = workspaces
        self.hooks = hooks
        self.failClosed = failClosed
    }

    /// Validates a plugin table as `LuaRuntime.describe` returns it.
    ///
    /// Function-valued fields must be known hooks, so a misspelt hook (`colour`) fails the load
    /// instead of silently never running. Other data fields are the plugin's own business.
    init(describing table: LuaValue) throws(PluginDefinitionError) {
        guard case .table(let fields) = table else {
            throw PluginDefinitionError("the plugin must return a table, got a \(table.typeName) value")
        }

        guard case .string(let name) = table["name"] else {
            throw PluginDefinitionError(
                "field \"name\" is missing or not a string (got \(table["name"].typeName)); set name = \"my-plugin\"")
        }
        try PluginDefinition.validate(name: name)
        self.name = name

        switch table["priority"] {
        case .nil:
            priority = 0
        case let value:
            guard let integer = value.integerValue, let priority = Int(exactly: integer) else {
                throw PluginDefinitionError("field \"priority\" must be an integer, got \(value.typeName) \(value)")
            }
            self.priority = priority
        }

        workspaces = try PluginDefinition.parseWorkspaces(table["workspaces"])

        switch table["fail_closed"] {
        case .nil: failClosed = false
        case .boolean(let flag): failClosed = flag
        case let value:
            throw PluginDefinitionError("field \"fail_closed\" must be a boolean, got a \(value.typeName) value")
        }

        var hooks: Set<PluginHook> = []
        for (key, value) in fields {
            guard case .string(let field) = key else { continue }
            if let hook = PluginHook(rawValue: field) {
                guard value == .opaque else {
                    throw PluginDefinitionError("field \"\(field)\" must be a function, got a \(value.typeName) value")
                }
                hooks.insert(hook)
            } else if value == .opaque {
                throw PluginDefinitionError(
                    "unknown hook \"\(field)\"; the known hooks are \(PluginHook.knownNames). "
                        + "Make helper functions local instead of fields of the plugin table")
            }
        }
        self.hooks = hooks
    }

    static func validate(name: String) throws(PluginDefinitionError) {
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
        guard !name.isEmpty, name.utf8.count <= maxNameLength, allowed else {
            throw PluginDefinitionError(
                "invalid plugin name \"\(name)\": use 1 to \(maxNameLength) letters, digits, \"-\", \"_\" or \".\"")
        }
    }

    private static func parseWorkspaces(_ value: LuaValue) throws(PluginDefinitionError) -> WorkspaceScope {
        switch value {
        case .nil:
            return .all
        case .string("*"):
            return .all
        case .table:
            guard let elements = value.sequence, case .table(let fields) = value, elements.count == fields.count else {
                throw PluginDefinitionError("field \"workspaces\" must be a list of workspace ids or \"*\"")
            }
            var workspaces: Set<String> = []
            for element in elements {
                guard case .string(let workspace) = element, !workspace.isEmpty else {
                    throw PluginDefinitionError(
                        "field \"workspaces\" must contain only non-empty strings, got a \(element.typeName) value")
                }
                if workspace == "*" { return .all }
                workspaces.insert(workspace)
            }
            guard !workspaces.isEmpty else {
                throw PluginDefinitionError("field \"workspaces\" is empty; list workspace ids or use \"*\" for all")
            }
            return .only(workspaces)
        default:
            throw PluginDefinitionError(
                "field \"workspaces\" must be a list of workspace ids or \"*\", got a \(value.typeName) value")
        }
    }
}

/// A plugin table that does not follow the plugin API.
public struct PluginDefinitionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}
