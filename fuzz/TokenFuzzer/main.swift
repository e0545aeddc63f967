// libFuzzer target for the JWT parser: Base64URL, UnverifiedToken and TokenClaims.
//
// Input layout: byte 0 selects the mode, the rest is the data.
// - Even byte 0: the data is a compact token, parsed as it arrived on a request.
// - Odd byte 0: the data is header JSON, a 0 byte, payload JSON, a 0 byte and signature bytes.
//   The target encodes them into a token first, so that the fuzzer reaches the JSON and claims
//   checks without having to discover base64url.
//
// Built by scripts/fuzz.sh together with the files listed in SOURCES. Besides crashes, it traps
// when one of these properties breaks:
// - strict base64url is canonical: text that decodes re-encodes to the same text;
// - a token that parses keeps its signing input byte for byte and its parts re-encode to the token;
// - every rejection has a non-empty message, and parsed claims respect their length limits.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let body = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))

    checkBase64URL(body)
    let token: [UInt8]
    if data[0] & 1 == 0 {
        token = body
    } else {
        let parts = body.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        let header = parts.count > 0 ? Array(parts[0]) : []
        let payload = parts.count > 1 ? Array(parts[1]) : []
        let signature = parts.count > 2 ? Array(parts[2]) : []
        token = Array((encode(header) + "." + encode(payload) + "." + encode(signature)).utf8)
    }
    checkToken(token)
    return 0
}

private func checkBase64URL(_ text: [UInt8]) {
    guard let decoded = try? Base64URL.decode(text) else { return }
    precondition(Array(encode(decoded).utf8) == text, "base64url decoding is not canonical")
}

private func checkToken(_ token: [UInt8]) {
    let unverified: UnverifiedToken
    do {
        unverified = try UnverifiedToken.parse(token)
    } catch {
        precondition(!error.description.isEmpty, "empty rejection message")
        return
    }
    precondition(token.starts(with: unverified.signingInput), "signing input is not a prefix of the token")
    precondition(token.count > unverified.signingInput.count, "signing input covers the whole token")
    precondition(!unverified.algorithm.isEmpty, "empty alg accepted")
    let parts = token.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
    precondition(parts.count == 3, "a token without 3 parts parsed")
    precondition(encode(unverified.payload) == String(decoding: parts[1], as: UTF8.self), "payload does not re-encode")
    precondition(encode(unverified.signature) == String(decoding: parts[2], as: UTF8.self), "signature does not re-encode")

    do {
        let claims = try unverified.claims()
        precondition(!claims.subject.isEmpty && claims.subject.utf8.count <= TokenClaims.maxIDBytes, "bad sub accepted")
        precondition(!claims.workspaces.isEmpty, "claims without a workspace accepted")
        precondition(claims.documents.map { !$0.isEmpty } ?? true, "empty documents list accepted")
        precondition(claims.expiresAt.isFinite, "non-finite exp accepted")
        _ = claims.allowsJoin(workspaceID: claims.workspaces[0], documentID: "d")
    } catch {
        precondition(!error.description.isEmpty, "empty rejection message")
    }
}

private let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

/// Base64url without padding, written here independently of the decoder under test.
private func encode(_ bytes: [UInt8]) -> String {
    var out: [UInt8] = []
    var index = 0
    while index + 3 <= bytes.count {
        let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
        for shift in [18, 12, 6, 0] { out.append(alphabet[Int(value >> UInt32(shift) & 63)]) }
        index += 3
    }
    let rest = bytes.count - index
    if rest == 1 {
        let value = UInt32(bytes[index]) << 16
        for shift in [18, 12] { out.append(alphabet[Int(value >> UInt32(shift) & 63)]) }
    } else if rest == 2 {
        let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
        for shift in [18, 12, 6] { out.append(alphabet[Int(value >> UInt32(shift) & 63)]) }
    }
    return String(decoding: out, as: UTF8.self)
}
