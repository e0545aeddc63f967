// libFuzzer target for HTTPHeadParser and the HTTPRequestHead accessors.
//
// Built by scripts/fuzz.sh together with the files listed in SOURCES. Besides crashes, it traps
// when one of these properties breaks:
// - an error carries status 400, 431 or 505;
// - a parsed head consumed no more than the input and no more than the limit;
// - parsing only the consumed bytes yields the same head (the parser never looks past them);
// - a head that parses under a limit also parses under any larger limit.

/// A small limit reaches the 431 path with short inputs; the default one is what the server uses.
private let parsers = [HTTPHeadParser(maxHeadBytes: 64), HTTPHeadParser(maxHeadBytes: 8192)]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    var parsedUnderSmallLimit: HTTPRequestHead?
    for parser in parsers {
        do {
            guard let (head, consumed) = try parser.parse(input) else {
                precondition(parsedUnderSmallLimit == nil, "a head parsed under 64 bytes is incomplete under 8192")
                continue
            }
            precondition(consumed <= size, "consumed \(consumed) of \(size) bytes")
            precondition(consumed <= parser.maxHeadBytes, "consumed \(consumed) bytes over the limit \(parser.maxHeadBytes)")
            checkPrefix(parser, input, consumed: consumed, head: head)
            exercise(head)
            if parser.maxHeadBytes == 64 {
                parsedUnderSmallLimit = head
            }
        } catch {
            precondition([400, 431, 505].contains(error.status), "unexpected status \(error.status)")
            precondition(!error.reason.isEmpty, "an error without a reason")
            precondition(parsedUnderSmallLimit == nil, "a head parsed under 64 bytes failed under 8192: \(error.reason)")
        }
    }
    return 0
}

/// Parses only the consumed bytes again and requires the same head.
private func checkPrefix(_ parser: HTTPHeadParser, _ input: UnsafeRawBufferPointer, consumed: Int, head: HTTPRequestHead) {
    let prefix = UnsafeRawBufferPointer(rebasing: input[0..<consumed])
    do {
        guard let (again, againConsumed) = try parser.parse(prefix) else {
            preconditionFailure("the consumed bytes alone do not parse")
        }
        precondition(againConsumed == consumed, "consumed \(againConsumed) bytes instead of \(consumed)")
        precondition(again == head, "the consumed bytes alone parse to another head")
    } catch {
        preconditionFailure("the consumed bytes alone fail: \(error.reason)")
    }
}

/// Calls every accessor a router uses, so their string handling runs on odd input too.
private func exercise(_ head: HTTPRequestHead) {
    let path = head.path
    precondition(!path.contains("?"), "path \(path) contains the query")
    precondition(head.target.hasPrefix(path), "path \(path) is not a prefix of the target")
    for (name, value) in head.queryItems {
        _ = name.utf8.count + value.utf8.count
    }
    _ = head.keepAlive
    for field in head.headers {
        precondition(head.header(field.name) != nil, "header \(field.name) is listed but not found")
        _ = head.headerContainsToken(field.name, "upgrade")
    }
}
