// libFuzzer target for WebSocketFrameDecoder and UTF8Validator.
//
// Input layout: byte 0 selects the options, byte 1 seeds the chunk sizes, the rest is the byte
// stream a client sent. Byte 0: bit 0 set means unmasked frames are accepted; bits 1-2 pick
// maxMessageBytes from `limits`.
//
// Built by scripts/fuzz.sh together with the files listed in SOURCES. Besides crashes, it traps
// when one of these properties breaks:
// - splitting the stream into other chunks changes neither the messages nor the error;
// - every text message and close reason is valid UTF-8, every data message fits the limit, every
//   control payload fits 125 bytes, and every close code is allowed on the wire;
// - an error carries close code 1002, 1007 or 1009;
// - UTF8Validator agrees with the standard library on the stream itself.

private let limits = [0, 16, 125, 65536]

/// The messages and error of one decoding run.
private struct Outcome: Equatable {
    var messages: [WebSocketMessage] = []
    var error: WebSocketProtocolError?
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let options = data[0]
    let chunkSeed = data[1]
    let stream = UnsafeRawBufferPointer(start: data + 2, count: size - 2)
    let requireMask = options & 1 == 0
    let limit = limits[Int(options >> 1) & 3]

    let whole = decode(stream, chunkSizes: [stream.count], limit: limit, requireMask: requireMask)
    let byteByByte = decode(stream, chunkSizes: [1], limit: limit, requireMask: requireMask)
    let seeded = decode(stream, chunkSizes: chunkSizes(seed: chunkSeed), limit: limit, requireMask: requireMask)
    precondition(whole == byteByByte, "one chunk and one byte at a time disagree")
    precondition(whole == seeded, "one chunk and seeded chunks disagree")

    check(whole, limit: limit)
    checkValidator(stream)
    return 0
}

/// Returns eight chunk sizes from 1 to 16 bytes, derived from `seed`, which `decode` cycles through.
private func chunkSizes(seed: UInt8) -> [Int] {
    var state = UInt32(seed) | 0x100
    var sizes: [Int] = []
    for _ in 0..<8 {
        state = state &* 1_103_515_245 &+ 12345
        sizes.append(Int((state >> 16) % 16) + 1)
    }
    return sizes
}

/// Feeds `stream` in chunks of the given sizes, cycling through them, and stops at the first error.
private func decode(_ stream: UnsafeRawBufferPointer, chunkSizes: [Int], limit: Int, requireMask: Bool) -> Outcome {
    var decoder = WebSocketFrameDecoder(maxMessageBytes: limit, requireMask: requireMask)
    var outcome = Outcome()
    var offset = 0
    var turn = 0
    while offset < stream.count {
        let size = max(1, min(chunkSizes[turn % chunkSizes.count], stream.count - offset))
        turn += 1
        let chunk = UnsafeRawBufferPointer(rebasing: stream[offset..<(offset + size)])
        offset += size
        do {
            try decoder.decode(chunk) { outcome.messages.append($0) }
        } catch {
            outcome.error = error
            break
        }
    }
    return outcome
}

private func check(_ outcome: Outcome, limit: Int) {
    for message in outcome.messages {
        switch message {
        case .text(let payload):
            precondition(payload.count <= limit, "text of \(payload.count) bytes over the limit \(limit)")
            precondition(String(validating: payload, as: UTF8.self) != nil, "text message is not valid UTF-8")
        case .binary(let payload):
            precondition(payload.count <= limit, "binary of \(payload.count) bytes over the limit \(limit)")
        case .ping(let payload), .pong(let payload):
            precondition(payload.count <= 125, "control payload of \(payload.count) bytes")
        case .close(let code, let reason):
            if let code {
                precondition(WebSocketCloseCode.isValidOnWire(code), "close code \(code) passed")
            } else {
                precondition(reason.isEmpty, "a close without a code has a reason")
            }
            precondition(reason.utf8.count <= 123, "close reason of \(reason.utf8.count) bytes")
        }
    }
    if let error = outcome.error {
        precondition([1002, 1007, 1009].contains(error.closeCode), "unexpected close code \(error.closeCode)")
    }
}

/// Compares the validator with the standard library on the raw stream, whole and split in two.
private func checkValidator(_ stream: UnsafeRawBufferPointer) {
    let expected = String(validating: stream, as: UTF8.self) != nil
    var validator = UTF8Validator()
    let whole = validator.validate(stream) && validator.isComplete
    precondition(whole == expected, "validator says \(whole), standard library says \(expected)")

    let middle = stream.count / 2
    var split = UTF8Validator()
    let first = split.validate(UnsafeRawBufferPointer(rebasing: stream[0..<middle]))
    let both = first && split.validate(UnsafeRawBufferPointer(rebasing: stream[middle...])) && split.isComplete
    precondition(both == expected, "split validation says \(both), standard library says \(expected)")
}
