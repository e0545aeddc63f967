/// Writes the client messages of the presence protocol into a reused byte buffer. Ids are written
/// as given, so they must not need JSON escaping; the generator makes them from letters and digits.
struct ClientMessages {
    private(set) var bytes: [UInt8] = []

    init() {
        bytes.reserveCapacity(256)
    }

    /// `{"type":"join","document_id":..,"workspace_id":..,"user_id":..,"name":..}`
    mutating func join(documentID: String, userID: String) -> [UInt8] {
        bytes.removeAll(keepingCapacity: true)
        append(#"{"type":"join","document_id":""#)
        append(documentID)
        append(#"","workspace_id":"bench","user_id":""#)
        append(userID)
        append(#"","name":"Bench "#)
        append(userID)
        append(#""}"#)
        return bytes
    }

    /// `{"type":"leave","document_id":..}`
    mutating func leave(documentID: String) -> [UInt8] {
        bytes.removeAll(keepingCapacity: true)
        append(#"{"type":"leave","document_id":""#)
        append(documentID)
        append(#""}"#)
        return bytes
    }

    /// `{"type":"cursor","document_id":..,"cursor":{"line":..,"column":..,"offset":..},"selection":null}`
    mutating func cursor(documentID: String, line: UInt32, column: UInt32, offset: UInt32) -> [UInt8] {
        bytes.removeAll(keepingCapacity: true)
        append(#"{"type":"cursor","document_id":""#)
        append(documentID)
        append(#"","cursor":{"line":"#)
        appendNumber(line)
        append(#","column":"#)
        appendNumber(column)
        append(#","offset":"#)
        appendNumber(offset)
        append(#"},"selection":null}"#)
        return bytes
    }

    private mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    private mutating func appendNumber(_ value: UInt32) {
        if value == 0 {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var remaining = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            while remaining > 0 {
                buffer[count] = UInt8(ascii: "0") + UInt8(remaining % 10)
                remaining /= 10
                count += 1
            }
            for index in stride(from: count - 1, through: 0, by: -1) { bytes.append(buffer[index]) }
        }
    }
}
