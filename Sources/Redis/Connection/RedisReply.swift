import CHiredis

/// One reply from Redis, copied out of hiredis's reply tree so that it outlives the callback.
public enum RedisReply: Sendable, Equatable {
    /// A bulk string, which may hold any bytes.
    case bulk([UInt8])
    /// A simple status such as `OK` or `QUEUED`.
    case status(String)
    case error(String)
    case integer(Int64)
    case array([RedisReply])
    /// A nil bulk string or nil array.
    case null

    /// Copies a hiredis reply. Unknown reply types, which hiredis 0.14 does not produce, become `.null`.
    init(_ reply: UnsafePointer<redisReply>) {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STRING:
            self = .bulk(Self.bytes(value.str, value.len))
        case REDIS_REPLY_STATUS:
            self = .status(String(decoding: Self.bytes(value.str, value.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            self = .error(String(decoding: Self.bytes(value.str, value.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            self = .integer(Int64(value.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(Int(value.elements))
            for index in 0..<Int(value.elements) {
                if let element = value.element[index] {
                    elements.append(RedisReply(UnsafePointer(element)))
                } else {
                    elements.append(.null)
                }
            }
            self = .array(elements)
        default:
            self = .null
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> [UInt8] {
        guard let pointer, length > 0 else { return [] }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            Array(UnsafeBufferPointer(start: $0, count: length))
        }
    }

    /// The bulk or status text as UTF-8, nil for other replies.
    public var string: String? {
        switch self {
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        default: nil
        }
    }

    public var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    public var array: [RedisReply]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// The error text, nil unless the reply is an error.
    public var errorMessage: String? {
        if case .error(let message) = self { return message }
        return nil
    }
}
