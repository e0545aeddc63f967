/// A Lua value that can cross between Swift and a plugin: what hooks receive and return.
///
/// Functions and other Lua types never cross, except as the `opaque` marker in a plugin's
/// description, which stands for "some value that is not data" (usually a hook function).
public enum LuaValue: Sendable, Hashable {
    case `nil`
    case boolean(Bool)
    case integer(Int64)
    /// A Lua float. Lua keeps integers and floats apart, so `3` and `3.0` arrive as different cases.
    case number(Double)
    case string(String)
    case table([LuaKey: LuaValue])
    case opaque

    /// Returns the value of field `key` when this is a table, otherwise `nil`, as raw indexing does.
    public subscript(key: String) -> LuaValue {
        guard case .table(let fields) = self else { return .nil }
        return fields[.string(key)] ?? .nil
    }

    /// The elements at keys 1, 2, ... up to the first missing one, when this is a table.
    public var sequence: [LuaValue]? {
        guard case .table(let fields) = self else { return nil }
        var elements: [LuaValue] = []
        var index: Int64 = 1
        while let element = fields[.integer(index)], element != .nil {
            elements.append(element)
            index += 1
        }
        return elements
    }

    public var isNil: Bool { self == .nil }

    /// The value as an integer when it is a Lua integer or a float with an integral value.
    public var integerValue: Int64? {
        switch self {
        case .integer(let value):
            return value
        case .number(let value):
            guard value.rounded(.towardZero) == value, abs(value) < 9.2e18 else { return nil }
            return Int64(value)
        default:
            return nil
        }
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The Lua type name, as Lua's `type()` returns it, for error messages.
    public var typeName: String {
        switch self {
        case .nil: "nil"
        case .boolean: "boolean"
        case .integer, .number: "number"
        case .string: "string"
        case .table: "table"
        case .opaque: "function"
        }
    }

    /// Builds a table from string keys, leaving out nil values as Lua does.
    public static func record(_ fields: KeyValuePairs<String, LuaValue>) -> LuaValue {
        var table: [LuaKey: LuaValue] = [:]
        for (key, value) in fields where value != .nil {
            table[.string(key)] = value
        }
        return .table(table)
    }

    /// Builds a sequence table with keys 1, 2, ...
    public static func array(_ elements: [LuaValue]) -> LuaValue {
        var table: [LuaKey: LuaValue] = [:]
        for (offset, element) in elements.enumerated() {
            table[.integer(Int64(offset + 1))] = element
        }
        return .table(table)
    }
}

/// A table key that can cross: Lua integers and strings. Float keys with integral values are
/// integers in Lua, and other key types are rejected at the boundary.
public enum LuaKey: Sendable, Hashable {
    case integer(Int64)
    case string(String)
}
