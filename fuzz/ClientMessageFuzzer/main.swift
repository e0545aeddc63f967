// libFuzzer target for ClientMessageDecoder, JSONParser and the error envelope.
//
// The input is the payload of one text frame from a client. Built by scripts/fuzz.sh together with
// the files listed in SOURCES. Besides crashes, it traps when one of these properties breaks:
// - a rejection is an InvalidMessage or UnknownMessageType error, never anything else;
// - the error envelope built from a rejection is valid JSON that echoes the request's ref;
// - an accepted message is valid JSON under the same limits;
// - a parsed JSON value written back by JSONWriter parses to the same value.

private let limits = ClientMessageLimits()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let parseLimits = JSONParseLimits(maxBytes: limits.maxMessageBytes, maxDepth: limits.maxDepth)
    let parsed = try? JSONParser.parse(bytes, limits: parseLimits)

    switch ClientMessageDecoder.decode(bytes, limits: limits) {
    case .success(let decoded):
        precondition(parsed != nil, "an accepted message must be valid JSON")
        if let ref = decoded.ref {
            precondition(ref.isScalar, "ref must be a scalar")
        }
    case .failure(let rejection):
        let code = rejection.error.code
        precondition(code == .invalidMessage || code == .unknownMessageType, "unexpected code \(code)")
        precondition(!rejection.error.message.isEmpty, "a rejection needs a message")
        let envelope = ServerMessageEncoder.error(
            rejection.error, documentID: rejection.documentID, ref: rejection.ref, timestamp: 1
        )
        guard let reply = try? JSONParser.parse(envelope, limits: JSONParseLimits(maxBytes: 1 << 20, maxDepth: 8)) else {
            preconditionFailure("the error envelope is not valid JSON")
        }
        precondition(reply["payload"]?["ref"] == rejection.ref, "the envelope must echo the ref")
    }

    if let parsed {
        var writer = JSONWriter()
        writer.appendValue(parsed)
        let reparsed = try? JSONParser.parse(writer.bytes, limits: JSONParseLimits(maxBytes: 1 << 22, maxDepth: limits.maxDepth))
        precondition(reparsed == parsed, "a written value must parse to itself")
    }
    return 0
}
