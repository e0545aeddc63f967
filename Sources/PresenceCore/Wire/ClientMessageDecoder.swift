/// Decodes client messages from the bytes of one WebSocket text frame.
///
/// Every failure is a `ClientMessageRejection` whose error names the field at fault and what was
/// expected, so that the gateway can reply and keep the connection open. Unknown fields are
/// rejected too, because a misspelt optional field (such as `is_typin`) would otherwise change the
/// meaning of a message without any sign.
public enum ClientMessageDecoder {
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, limits: ClientMessageLimits = ClientMessageLimits()
    ) -> Result<DecodedClientMessage, ClientMessageRejection> {
        guard bytes.count <= limits.maxMessageBytes else {
            return .failure(
                reject("message of \(bytes.count) bytes exceeds the limit of \(limits.maxMessageBytes) bytes")
            )
        }
        let root: JSONValue
        do {
            root = try JSONParser.parse(bytes, limits: JSONParseLimits(maxBytes: limits.maxMessageBytes, maxDepth: limits.maxDepth))
        } catch {
            return .failure(reject("message is not valid JSON: \(error)"))
        }
        guard case .object(let members) = root else {
            return .failure(reject("message must be a JSON object, got \(root.typeDescription)"))
        }

        var reader = FieldReader(members: members, limits: limits)
        do throws(PresenceError) {
            let message = try reader.readMessage()
            return .success(DecodedClientMessage(message: message, ref: reader.ref))
        } catch {
            return .failure(ClientMessageRejection(error: error, ref: reader.ref, documentID: reader.documentID))
        }
    }

    public static func decode(
        _ bytes: [UInt8], limits: ClientMessageLimits = ClientMessageLimits()
    ) -> Result<DecodedClientMessage, ClientMessageRejection> {
        bytes.withUnsafeBytes { decode($0, limits: limits) }
    }

    public static func decode(
        _ text: String, limits: ClientMessageLimits = ClientMessageLimits()
    ) -> Result<DecodedClientMessage, ClientMessageRejection> {
        decode(Array(text.utf8), limits: limits)
    }

    private static func reject(_ message: String) -> ClientMessageRejection {
        ClientMessageRejection(error: .invalidMessage(message), ref: nil, documentID: nil)
    }
}

/// Reads and checks the fields of one message object. `ref` and `documentID` are filled in as soon
/// as they are read, so that a later failure can still echo them.
private struct FieldReader {
    let members: [JSONMember]
    let limits: ClientMessageLimits
    var ref: JSONValue?
    var documentID: String?

    init(members: [JSONMember], limits: ClientMessageLimits) {
        self.members = members
        self.limits = limits
    }

    mutating func readMessage() throws(PresenceError) -> ClientMessage {
        if let refValue = members.first(where: { $0.key == "ref" })?.value {
            guard refValue.isScalar else {
                throw .invalidMessage(
                    "field \"ref\" must be a string, number, boolean or null, got \(refValue.typeDescription)"
                )
            }
            ref = refValue
        }
        if let idValue = members.first(where: { $0.key == "document_id" })?.value,
            let id = try? Self.checkID(idValue, field: "document_id", limits: limits)
        {
            documentID = id
        }

        guard let typeValue = members.first(where: { $0.key == "type" })?.value else {
            throw .invalidMessage("missing field \"type\", expected one of \(Self.typeList)")
        }
        guard case .string(let type) = typeValue else {
            throw .invalidMessage("field \"type\" must be a string, got \(typeValue.typeDescription)")
        }

        switch type {
        case "join":
            try checkKnownFields(["document_id", "workspace_id", "user_id", "name", "avatar_url"], type: type)
            return .join(
                documentID: try requiredID("document_id", type: type),
                workspaceID: try requiredID("workspace_id", type: type),
                userID: try optionalID("user_id"),
                name: try optionalName(),
                avatarURL: try optionalAvatarURL()
            )
        case "leave":
            try checkKnownFields(["document_id"], type: type)
            return .leave(documentID: try requiredID("document_id", type: type))
        case "cursor":
            try checkKnownFields(["document_id", "cursor", "selection"], type: type)
            let documentID = try requiredID("document_id", type: type)
            let cursor = try Self.readCursor(try required("cursor", type: type), path: "cursor")
            var selection: Selection? = nil
            if let value = members.first(where: { $0.key == "selection" })?.value, value != .null {
                selection = try Self.readSelection(value, path: "selection")
            }
            return .cursor(documentID: documentID, cursor: cursor, selection: selection)
        case "typing":
            try checkKnownFields(["document_id", "is_typing"], type: type)
            let documentID = try requiredID("document_id", type: type)
            var isTyping: Bool? = nil
            if let value = members.first(where: { $0.key == "is_typing" })?.value, value != .null {
                isTyping = try Self.readBool(value, path: "is_typing")
            }
            return .typing(documentID: documentID, isTyping: isTyping)
        case "viewport":
            try checkKnownFields(["document_id", "viewport"], type: type)
            let documentID = try requiredID("document_id", type: type)
            let viewport = try Self.readViewport(try required("viewport", type: type), path: "viewport")
            return .viewport(documentID: documentID, viewport: viewport)
        case "focus":
            try checkKnownFields(["document_id", "focused"], type: type)
            let documentID = try requiredID("document_id", type: type)
            let focused = try Self.readBool(try required("focused", type: type), path: "focused")
            return .focus(documentID: documentID, focused: focused)
        case "ping":
            try checkKnownFields([], type: type)
            return .ping
        default:
            throw PresenceError(
                code: .unknownMessageType,
                message: "unknown message type \"\(Self.clip(type))\", expected one of \(Self.typeList)"
            )
        }
    }

    private static let typeList = ClientMessage.typeNames.joined(separator: ", ")

    // MARK: - Top-level fields

    private func checkKnownFields(_ fields: Set<String>, type: String) throws(PresenceError) {
        for member in members where member.key != "type" && member.key != "ref" && !fields.contains(member.key) {
            let expected = (["type"] + fields.sorted() + ["ref"]).joined(separator: ", ")
            throw .invalidMessage(
                "unknown field \"\(Self.clip(member.key))\" in a \(type) message, expected only \(expected)"
            )
        }
    }

    private func required(_ field: String, type: String) throws(PresenceError) -> JSONValue {
        guard let value = members.first(where: { $0.key == field })?.value else {
            throw .invalidMessage("missing field \"\(field)\" in a \(type) message")
        }
        return value
    }

    private func requiredID(_ field: String, type: String) throws(PresenceError) -> String {
        try Self.checkID(try required(field, type: type), field: field, limits: limits)
    }

    private func optionalID(_ field: String) throws(PresenceError) -> String? {
        guard let value = members.first(where: { $0.key == field })?.value, value != .null else { return nil }
        return try Self.checkID(value, field: field, limits: limits)
    }

    private func optionalName() throws(PresenceError) -> String? {
        guard let value = members.first(where: { $0.key == "name" })?.value, value != .null else { return nil }
        guard case .string(let name) = value else {
            throw .invalidMessage("field \"name\" must be a string, got \(value.typeDescription)")
        }
        let count = name.unicodeScalars.count
        guard count >= 1, count <= limits.maxNameCharacters else {
            throw .invalidMessage(
                "field \"name\" must be 1 to \(limits.maxNameCharacters) characters long, got \(count)"
            )
        }
        guard !Self.containsControlCharacter(name) else {
            throw .invalidMessage("field \"name\" must not contain control characters")
        }
        return name
    }

    private func optionalAvatarURL() throws(PresenceError) -> String? {
        guard let value = members.first(where: { $0.key == "avatar_url" })?.value, value != .null else {
            return nil
        }
        guard case .string(let url) = value else {
            throw .invalidMessage("field \"avatar_url\" must be a string or null, got \(value.typeDescription)")
        }
        guard url.utf8.count <= limits.maxAvatarURLBytes else {
            throw .invalidMessage(
                "field \"avatar_url\" must be at most \(limits.maxAvatarURLBytes) bytes long, got \(url.utf8.count)"
            )
        }
        guard !Self.containsControlCharacter(url) else {
            throw .invalidMessage("field \"avatar_url\" must not contain control characters")
        }
        return url
    }

    // MARK: - Values

    static func checkID(_ value: JSONValue, field: String, limits: ClientMessageLimits) throws(PresenceError) -> String {
        guard case .string(let id) = value else {
            throw .invalidMessage("field \"\(field)\" must be a string, got \(value.typeDescription)")
        }
        let length = id.utf8.count
        guard length >= 1, length <= limits.maxIDBytes else {
            throw .invalidMessage("field \"\(field)\" must be 1 to \(limits.maxIDBytes) bytes long, got \(length)")
        }
        guard !containsControlCharacter(id) else {
            throw .invalidMessage("field \"\(field)\" must not contain control characters")
        }
        return id
    }

    private static func containsControlCharacter(_ string: String) -> Bool {
        string.utf8.contains { $0 < 0x20 || $0 == 0x7F }
    }

    private static func readObject(
        _ value: JSONValue, path: String, fields: Set<String>
    ) throws(PresenceError) -> [JSONMember] {
        guard case .object(let members) = value else {
            throw .invalidMessage("field \"\(path)\" must be an object, got \(value.typeDescription)")
        }
        for member in members where !fields.contains(member.key) {
            throw .invalidMessage(
                "unknown field \"\(path).\(clip(member.key))\", expected only \(fields.sorted().joined(separator: ", "))"
            )
        }
        return members
    }

    private static func member(_ name: String, of members: [JSONMember], path: String) throws(PresenceError) -> JSONValue {
        guard let value = members.first(where: { $0.key == name })?.value else {
            throw .invalidMessage("missing field \"\(path).\(name)\"")
        }
        return value
    }

    private static func readCursor(_ value: JSONValue, path: String) throws(PresenceError) -> CursorPosition {
        let members = try readObject(value, path: path, fields: ["line", "column", "offset"])
        return CursorPosition(
            line: try readUInt32(try member("line", of: members, path: path), path: path + ".line"),
            column: try readUInt32(try member("column", of: members, path: path), path: path + ".column"),
            offset: try readUInt32(try member("offset", of: members, path: path), path: path + ".offset")
        )
    }

    private static func readSelection(_ value: JSONValue, path: String) throws(PresenceError) -> Selection {
        let members = try readObject(value, path: path, fields: ["anchor", "head", "is_backward"])
        return Selection(
            anchor: try readCursor(try member("anchor", of: members, path: path), path: path + ".anchor"),
            head: try readCursor(try member("head", of: members, path: path), path: path + ".head"),
            isBackward: try readBool(try member("is_backward", of: members, path: path), path: path + ".is_backward")
        )
    }

    private static func readViewport(_ value: JSONValue, path: String) throws(PresenceError) -> Viewport {
        let members = try readObject(value, path: path, fields: ["top_line", "bottom_line", "scroll_percentage"])
        let topLine = try readUInt32(try member("top_line", of: members, path: path), path: path + ".top_line")
        let bottomLine = try readUInt32(try member("bottom_line", of: members, path: path), path: path + ".bottom_line")
        guard bottomLine >= topLine else {
            throw .invalidMessage(
                "field \"\(path).bottom_line\" must not be less than \"\(path).top_line\", got \(bottomLine) < \(topLine)"
            )
        }
        let percentage = try member("scroll_percentage", of: members, path: path)
        guard case .number(let number) = percentage, Float(number.doubleValue).isFinite else {
            throw .invalidMessage(
                "field \"\(path).scroll_percentage\" must be a finite number, got \(describe(percentage))"
            )
        }
        return Viewport(topLine: topLine, bottomLine: bottomLine, scrollPercentage: Float(number.doubleValue))
    }

    private static func readUInt32(_ value: JSONValue, path: String) throws(PresenceError) -> UInt32 {
        guard case .number(let number) = value, let integer = number.uint32Value else {
            throw .invalidMessage(
                "field \"\(path)\" must be a non-negative integer up to \(UInt32.max), got \(describe(value))"
            )
        }
        return integer
    }

    private static func readBool(_ value: JSONValue, path: String) throws(PresenceError) -> Bool {
        guard case .bool(let flag) = value else {
            throw .invalidMessage("field \"\(path)\" must be true or false, got \(describe(value))")
        }
        return flag
    }

    /// Describes a wrong value: numbers as written, everything else by its type.
    private static func describe(_ value: JSONValue) -> String {
        if case .number(let number) = value {
            return clip(number.text)
        }
        return value.typeDescription
    }

    /// Shortens client text quoted in an error message to at most 64 characters.
    private static func clip(_ text: String) -> String {
        guard text.unicodeScalars.count > 64 else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.prefix(64))) + "..."
    }
}
