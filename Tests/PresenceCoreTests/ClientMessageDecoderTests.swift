import PresenceCore
import XCTest

final class ClientMessageDecoderTests: XCTestCase {
    private func decode(_ text: String, limits: ClientMessageLimits = ClientMessageLimits()) -> Result<DecodedClientMessage, ClientMessageRejection> {
        ClientMessageDecoder.decode(text, limits: limits)
    }

    private func message(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> ClientMessage? {
        switch decode(text) {
        case .success(let decoded): return decoded.message
        case .failure(let rejection):
            XCTFail("rejected: \(rejection.error)", file: file, line: line)
            return nil
        }
    }

    private func rejection(
        _ text: String, limits: ClientMessageLimits = ClientMessageLimits(), file: StaticString = #filePath,
        line: UInt = #line
    ) -> ClientMessageRejection? {
        switch decode(text, limits: limits) {
        case .success(let decoded):
            XCTFail("accepted \(decoded.message)", file: file, line: line)
            return nil
        case .failure(let rejection): return rejection
        }
    }

    private func assertInvalid(
        _ text: String, message expected: String, limits: ClientMessageLimits = ClientMessageLimits(),
        file: StaticString = #filePath, line: UInt = #line
    ) {
        guard let rejection = rejection(text, limits: limits, file: file, line: line) else { return }
        XCTAssertEqual(rejection.error.code, .invalidMessage, file: file, line: line)
        XCTAssertEqual(rejection.error.message, expected, file: file, line: line)
    }

    // MARK: - Accepted messages

    func testDecoderReadsEveryExampleMessage() {
        XCTAssertEqual(
            message(#"{"type":"join","document_id":"d1","workspace_id":"w1","user_id":"u1","name":"Ada","avatar_url":null}"#),
            .join(documentID: "d1", workspaceID: "w1", userID: "u1", name: "Ada", avatarURL: nil)
        )
        XCTAssertEqual(message(#"{"type":"leave","document_id":"d1"}"#), .leave(documentID: "d1"))
        XCTAssertEqual(
            message(#"{"type":"cursor","document_id":"d1","cursor":{"line":3,"column":7,"offset":42},"selection":null}"#),
            .cursor(documentID: "d1", cursor: CursorPosition(line: 3, column: 7, offset: 42), selection: nil)
        )
        XCTAssertEqual(message(#"{"type":"typing","document_id":"d1","is_typing":true}"#), .typing(documentID: "d1", isTyping: true))
        XCTAssertEqual(message(#"{"type":"typing","document_id":"d1"}"#), .typing(documentID: "d1", isTyping: nil))
        XCTAssertEqual(
            message(#"{"type":"viewport","document_id":"d1","viewport":{"top_line":0,"bottom_line":40,"scroll_percentage":0.0}}"#),
            .viewport(documentID: "d1", viewport: Viewport(topLine: 0, bottomLine: 40, scrollPercentage: 0))
        )
        XCTAssertEqual(message(#"{"type":"focus","document_id":"d1","focused":false}"#), .focus(documentID: "d1", focused: false))
        XCTAssertEqual(message(#"{"type":"ping"}"#), .ping)
    }

    func testDecoderReadsSelectionAndAvatar() {
        let text = #"""
            {"type":"cursor","document_id":"d1","cursor":{"line":1,"column":2,"offset":3},
             "selection":{"anchor":{"line":0,"column":0,"offset":0},"head":{"line":1,"column":2,"offset":3},"is_backward":false}}
            """#
        XCTAssertEqual(
            message(text),
            .cursor(
                documentID: "d1", cursor: CursorPosition(line: 1, column: 2, offset: 3),
                selection: Selection(
                    anchor: CursorPosition(line: 0, column: 0, offset: 0), head: CursorPosition(line: 1, column: 2, offset: 3),
                    isBackward: false
                )
            )
        )
        XCTAssertEqual(
            message(#"{"type":"join","document_id":"d1","workspace_id":"w1","user_id":"u1","name":"Ada","avatar_url":"https://a/b.png"}"#),
            .join(documentID: "d1", workspaceID: "w1", userID: "u1", name: "Ada", avatarURL: "https://a/b.png")
        )
        XCTAssertEqual(
            message(#"{"type":"join","document_id":"d1","workspace_id":"w1","user_id":"u1","name":"Ada"}"#),
            .join(documentID: "d1", workspaceID: "w1", userID: "u1", name: "Ada", avatarURL: nil)
        )
    }

    func testDecoderReturnsRefOfEveryScalarType() {
        for ref in ["7", "\"abc\"", "true", "null", "1.50"] {
            guard case .success(let decoded) = decode(#"{"type":"ping","ref":\#(ref)}"#) else {
                XCTFail("rejected ref \(ref)")
                continue
            }
            var writer = JSONWriter()
            writer.appendValue(decoded.ref!)
            XCTAssertEqual(String(decoding: writer.bytes, as: UTF8.self), ref)
        }
    }

    // MARK: - Rejections

    func testDecoderRejectsNonObjects() {
        assertInvalid("[1]", message: "message must be a JSON object, got an array")
        assertInvalid("\"ping\"", message: "message must be a JSON object, got a string")
        let broken = rejection("{\"type\":")
        XCTAssertEqual(broken?.error.code, .invalidMessage)
        XCTAssertTrue(broken?.error.message.hasPrefix("message is not valid JSON: ") == true)
    }

    func testDecoderRejectsMissingOrBadType() {
        assertInvalid(
            #"{"document_id":"d1"}"#,
            message: "missing field \"type\", expected one of join, leave, cursor, typing, viewport, focus, ping"
        )
        assertInvalid(#"{"type":5}"#, message: "field \"type\" must be a string, got a number")
        let unknown = rejection(#"{"type":"dance","ref":9,"document_id":"d1"}"#)
        XCTAssertEqual(unknown?.error.code, .unknownMessageType)
        XCTAssertEqual(
            unknown?.error.message,
            "unknown message type \"dance\", expected one of join, leave, cursor, typing, viewport, focus, ping"
        )
        XCTAssertEqual(unknown?.ref, .number(JSONNumber(9)))
        XCTAssertEqual(unknown?.documentID, "d1")
    }

    func testDecoderRejectsNonScalarRef() {
        let result = rejection(#"{"type":"ping","ref":[1]}"#)
        XCTAssertEqual(result?.error.message, "field \"ref\" must be a string, number, boolean or null, got an array")
        XCTAssertNil(result?.ref)
    }

    func testDecoderNamesEachCursorField() {
        let prefix = #"{"type":"cursor","document_id":"d1","ref":"r1","cursor":"#
        let expectations: [(String, String)] = [
            (#"{"line":-1,"column":0,"offset":0}}"#, "field \"cursor.line\" must be a non-negative integer up to 4294967295, got -1"),
            (#"{"line":0,"column":1.5,"offset":0}}"#, "field \"cursor.column\" must be a non-negative integer up to 4294967295, got 1.5"),
            (#"{"line":0,"column":0,"offset":"3"}}"#, "field \"cursor.offset\" must be a non-negative integer up to 4294967295, got a string"),
            (#"{"line":4294967296,"column":0,"offset":0}}"#, "field \"cursor.line\" must be a non-negative integer up to 4294967295, got 4294967296"),
            (#"{"line":0,"column":0}}"#, "missing field \"cursor.offset\""),
            (#"{"line":0,"column":0,"offset":0,"x":1}}"#, "unknown field \"cursor.x\", expected only column, line, offset"),
            (#"[0,0,0]}"#, "field \"cursor\" must be an object, got an array"),
            (
                #"{"line":0,"column":0,"offset":0},"selection":{"anchor":{"line":0,"column":0,"offset":0},"head":{"line":0,"column":0,"offset":0}}}"#,
                "missing field \"selection.is_backward\""
            ),
            (
                #"{"line":0,"column":0,"offset":0},"selection":{"anchor":{"line":0,"column":0,"offset":0},"head":{"line":true,"column":0,"offset":0},"is_backward":false}}"#,
                "field \"selection.head.line\" must be a non-negative integer up to 4294967295, got a boolean"
            ),
            (
                #"{"line":0,"column":0,"offset":0},"selection":{"anchor":{"line":0,"column":0,"offset":0},"head":{"line":0,"column":0,"offset":0},"is_backward":1}}"#,
                "field \"selection.is_backward\" must be true or false, got 1"
            ),
        ]
        for (rest, expected) in expectations {
            guard let result = rejection(prefix + rest) else { continue }
            XCTAssertEqual(result.error.message, expected)
            XCTAssertEqual(result.ref, .string("r1"))
            XCTAssertEqual(result.documentID, "d1")
        }
        assertInvalid(#"{"type":"cursor","document_id":"d1"}"#, message: "missing field \"cursor\" in a cursor message")
    }

    func testDecoderNamesEachViewportField() {
        let prefix = #"{"type":"viewport","document_id":"d1","viewport":"#
        assertInvalid(
            prefix + #"{"top_line":5,"bottom_line":4,"scroll_percentage":0}}"#,
            message: "field \"viewport.bottom_line\" must not be less than \"viewport.top_line\", got 4 < 5"
        )
        assertInvalid(
            prefix + #"{"top_line":0,"bottom_line":4,"scroll_percentage":null}}"#,
            message: "field \"viewport.scroll_percentage\" must be a finite number, got null"
        )
        assertInvalid(
            prefix + #"{"top_line":0,"bottom_line":4,"scroll_percentage":1e39}}"#,
            message: "field \"viewport.scroll_percentage\" must be a finite number, got 1e39"
        )
        assertInvalid(prefix + #"{"top_line":0,"bottom_line":4}}"#, message: "missing field \"viewport.scroll_percentage\"")
    }

    func testDecoderRejectsNonFiniteNumbers() {
        let result = rejection(#"{"type":"viewport","document_id":"d1","viewport":{"top_line":0,"bottom_line":4,"scroll_percentage":1e999},"ref":"r1"}"#)
        XCTAssertEqual(result?.error.code, .invalidMessage)
        XCTAssertEqual(result?.error.message, "field \"viewport.scroll_percentage\" must be a finite number, got 1e999")
        XCTAssertEqual(result?.ref, .string("r1"))
        let line = rejection(#"{"type":"cursor","document_id":"d1","cursor":{"line":1e400,"column":0,"offset":0},"selection":null}"#)
        XCTAssertEqual(line?.error.message, "field \"cursor.line\" must be a non-negative integer up to 4294967295, got 1e400")
        let literal = rejection(#"{"type":"viewport","document_id":"d1","viewport":{"top_line":0,"bottom_line":4,"scroll_percentage":NaN}}"#)
        XCTAssertEqual(literal?.error.code, .invalidMessage)
    }

    func testJoinMayLeaveIdentityToToken() {
        XCTAssertEqual(
            message(#"{"type":"join","document_id":"d1","workspace_id":"w1"}"#),
            .join(documentID: "d1", workspaceID: "w1", userID: nil, name: nil, avatarURL: nil))
        XCTAssertEqual(
            message(#"{"type":"join","document_id":"d1","workspace_id":"w1","user_id":null,"name":null}"#),
            .join(documentID: "d1", workspaceID: "w1", userID: nil, name: nil, avatarURL: nil))
    }

    func testDecoderNamesEachJoinField() {
        let long = String(repeating: "x", count: 129)
        let cases: [(String, String)] = [
            (#""document_id":5,"workspace_id":"w1","user_id":"u1","name":"Ada""#, "field \"document_id\" must be a string, got a number"),
            (#""document_id":"","workspace_id":"w1","user_id":"u1","name":"Ada""#, "field \"document_id\" must be 1 to 128 bytes long, got 0"),
            (#""document_id":"d1","workspace_id":"\#(long)","user_id":"u1","name":"Ada""#, "field \"workspace_id\" must be 1 to 128 bytes long, got 129"),
            (#""document_id":"d1","workspace_id":"w1","user_id":"u\n1","name":"Ada""#, "field \"user_id\" must not contain control characters"),
            (#""document_id":"d1","workspace_id":"w1","user_id":"u1","name":"""#, "field \"name\" must be 1 to 256 characters long, got 0"),
            (#""document_id":"d1","workspace_id":"w1","user_id":"u1","name":["Ada"]"#, "field \"name\" must be a string, got an array"),
            (#""document_id":"d1","workspace_id":"w1","user_id":"u1","name":"Ada","avatar_url":1"#, "field \"avatar_url\" must be a string or null, got a number"),
            (
                #""document_id":"d1","workspace_id":"w1","user_id":"u1","name":"Ada","role":"admin""#,
                "unknown field \"role\" in a join message, expected only type, avatar_url, document_id, name, user_id, workspace_id, ref"
            ),
        ]
        for (fields, expected) in cases {
            assertInvalid(#"{"type":"join",\#(fields)}"#, message: expected)
        }
    }

    func testDecoderCountsIDBytesAndNameCharacters() {
        let idOf128Bytes = String(repeating: "é", count: 64)
        let idOf130Bytes = String(repeating: "é", count: 65)
        let nameOf256 = String(repeating: "用", count: 256)
        let nameOf257 = String(repeating: "用", count: 257)
        XCTAssertNotNil(message(#"{"type":"join","document_id":"\#(idOf128Bytes)","workspace_id":"w","user_id":"u","name":"\#(nameOf256)"}"#))
        assertInvalid(
            #"{"type":"join","document_id":"\#(idOf130Bytes)","workspace_id":"w","user_id":"u","name":"Ada"}"#,
            message: "field \"document_id\" must be 1 to 128 bytes long, got 130"
        )
        assertInvalid(
            #"{"type":"join","document_id":"d","workspace_id":"w","user_id":"u","name":"\#(nameOf257)"}"#,
            message: "field \"name\" must be 1 to 256 characters long, got 257"
        )
    }

    func testDecoderRejectsMisspeltTypingField() {
        assertInvalid(
            #"{"type":"typing","document_id":"d1","is_typin":true}"#,
            message: "unknown field \"is_typin\" in a typing message, expected only type, document_id, is_typing, ref"
        )
        assertInvalid(
            #"{"type":"typing","document_id":"d1","is_typing":"yes"}"#,
            message: "field \"is_typing\" must be true or false, got a string"
        )
        assertInvalid(#"{"type":"ping","document_id":"d1"}"#, message: "unknown field \"document_id\" in a ping message, expected only type, ref")
    }

    func testDecoderEnforcesSizeAndDepthLimits() {
        let small = ClientMessageLimits(maxMessageBytes: 16)
        assertInvalid(#"{"type":"ping","ref":"0123456789"}"#, message: "message of 34 bytes exceeds the limit of 16 bytes", limits: small)
        let nested = #"{"type":"ping","ref":"# + String(repeating: "[", count: 40) + String(repeating: "]", count: 40) + "}"
        let result = rejection(nested)
        XCTAssertEqual(result?.error.code, .invalidMessage)
        XCTAssertTrue(result?.error.message.contains("maximum depth of 32") == true)
    }

    func testDecoderClipsLongQuotedText() {
        let longType = String(repeating: "z", count: 500)
        let result = rejection(#"{"type":"\#(longType)"}"#)
        XCTAssertEqual(result?.error.code, .unknownMessageType)
        XCTAssertLessThan(result?.error.message.count ?? 1000, 200)
    }
}
