import PresenceCore

/// Converts `[plugins.config.NAME]` sections, received as JSON object text, to the Lua table a
/// plugin sees as `plugin.config`.
enum PluginConfig {
    /// Returns the table for `text`, or an empty table when `text` is nil.
    static func table(fromJSON text: String?) throws(PluginDefinitionError) -> LuaValue {
        guard let text else { return .table([:]) }
        let value: JSONValue
        do {
            value = try JSONParser.parse(text)
        } catch {
            throw PluginDefinitionError("invalid plugin config JSON: \(error.description)")
        }
        guard case .object = value else {
            throw PluginDefinitionError("plugin config must be a table (a JSON object), got \(value.typeDescription)")
        }
        return luaValue(value)
    }

    private static func luaValue(_ value: JSONValue) -> LuaValue {
        switch value {
        case .null:
            return .nil
        case .bool(let flag):
            return .boolean(flag)
        case .number(let number):
            // Integers stay Lua integers, so `config.limit == 10` and `%d` behave as written.
            let isIntegerText = !number.text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" })
            if isIntegerText, let integer = Int64(number.text) { return .integer(integer) }
            return .number(number.doubleValue)
        case .string(let string):
            return .string(string)
        case .array(let elements):
            return .array(elements.map(luaValue))
        case .object(let members):
            var fields: [LuaKey: LuaValue] = [:]
            for member in members {
                let converted = luaValue(member.value)
                if converted != .nil { fields[.string(member.key)] = converted }
            }
            return .table(fields)
        }
    }
}
