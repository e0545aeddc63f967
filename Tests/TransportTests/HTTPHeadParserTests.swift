import XCTest
@testable import Transport

final class HTTPHeadParserTests: XCTestCase {
    private let parser = HTTPHeadParser(maxHeadBytes: 8192)

    private func parse(_ text: String) throws(HTTPParseError) -> (HTTPRequestHead, Int)? {
        try parser.parse(Array(text.utf8))
    }

    /// The status of the error that parsing `text` throws, or nil when it does not throw.
    private func errorStatus(_ text: String) -> Int? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error.status
        }
    }

    private func head(_ text: String) throws -> HTTPRequestHead {
        let parsed = try XCTUnwrap(try parse(text))
        return parsed.0
    }

    // MARK: - Well-formed heads

    func testParserReadsRequestLineAndHeaders() throws {
        let text = "GET /v1/ws?doc=a HTTP/1.1\r\nHost: example.test\r\nX-Empty:\r\nUser-Agent:  curl/8 \t\r\n\r\n"
        let parsed = try XCTUnwrap(try parse(text))
        XCTAssertEqual(parsed.1, text.utf8.count)
        XCTAssertEqual(parsed.0.method, "GET")
        XCTAssertEqual(parsed.0.target, "/v1/ws?doc=a")
        XCTAssertEqual(parsed.0.path, "/v1/ws")
        XCTAssertEqual(parsed.0.version, "HTTP/1.1")
        XCTAssertEqual(parsed.0.header("host"), "example.test")
        XCTAssertEqual(parsed.0.header("X-EMPTY"), "")
        XCTAssertEqual(parsed.0.header("User-Agent"), "curl/8")
        XCTAssertNil(parsed.0.header("Missing"))
    }

    func testParserWaitsForBlankLine() throws {
        XCTAssertNil(try parse(""))
        XCTAssertNil(try parse("GET / HTTP/1.1\r\n"))
        XCTAssertNil(try parse("GET / HTTP/1.1\r\nHost: a\r\n"))
        XCTAssertNil(try parse("GET / HTTP/1.1\r\nHost: a\r\n\r"))
    }

    func testParserReportsBytesConsumedBeforeBody() throws {
        let head = "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n"
        let parsed = try XCTUnwrap(try parse(head + "body"))
        XCTAssertEqual(parsed.1, head.utf8.count)
    }

    func testParserAcceptsBareLineFeeds() throws {
        let parsed = try XCTUnwrap(try parse("GET / HTTP/1.1\nHost: a\n\n"))
        XCTAssertEqual(parsed.0.header("Host"), "a")
        XCTAssertEqual(parsed.1, 24)
    }

    func testParserAcceptsHTTP10WithoutHost() throws {
        XCTAssertEqual(try head("GET / HTTP/1.0\r\n\r\n").version, "HTTP/1.0")
    }

    func testParserKeepsRepeatedHeadersInOrder() throws {
        let parsed = try head("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nx-a: 2\r\n\r\n")
        XCTAssertEqual(parsed.header("X-A"), "1")
        XCTAssertEqual(parsed.headers.map(\.value), ["a", "1", "2"])
    }

    // MARK: - Size limit

    /// A head of exactly `size` bytes, padded with one header.
    private func headOfSize(_ size: Int) -> String {
        let prefix = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: "
        let suffix = "\r\n\r\n"
        let padding = String(repeating: "p", count: size - prefix.utf8.count - suffix.utf8.count)
        return prefix + padding + suffix
    }

    func testParserAcceptsHeadAtLimit() throws {
        let text = headOfSize(8192)
        XCTAssertEqual(text.utf8.count, 8192)
        XCTAssertEqual(try parse(text)?.1, 8192)
    }

    func testParserRejectsCompleteHeadOverLimitWith431() {
        for size in [8193, 8194, 8195, 8196, 9000] {
            XCTAssertEqual(errorStatus(headOfSize(size)), 431, "head of \(size) bytes")
        }
    }

    func testParserRejectsUnfinishedHeadOverLimitWith431() {
        let text = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: " + String(repeating: "p", count: 9000)
        XCTAssertEqual(errorStatus(text), 431)
    }

    func testParserWaitsForUnfinishedHeadUnderLimit() throws {
        let text = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: " + String(repeating: "p", count: 8000)
        XCTAssertNil(try parse(text))
    }

    // MARK: - Malformed heads

    func testParserRejectsMalformedHeadsWith400() {
        let cases = [
            "\r\n\r\n",
            "GET\r\nHost: a\r\n\r\n",
            "GET /\r\nHost: a\r\n\r\n",
            "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n",
            "G(T / HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /a\u{7F}b HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET noslash HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET / HTTX/1.1\r\nHost: a\r\n\r\n",
            "GET / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nNo colon here\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\n: empty name\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n  folded\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX-A: bell\u{07}\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX-A: bare\rcr\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
        ]
        for text in cases {
            XCTAssertEqual(errorStatus(text), 400, "request \(text.debugDescription)")
        }
    }

    func testParserRejectsOtherHTTPVersionsWith505() {
        XCTAssertEqual(errorStatus("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505)
        XCTAssertEqual(errorStatus("GET / HTTP/0.9\r\n\r\n"), 505)
    }

    func testParserErrorNamesTheProblem() {
        do {
            _ = try parse("GET / HTTP/1.1\r\n\r\n")
            XCTFail("expected an error")
        } catch {
            XCTAssertTrue(error.reason.contains("Host"), error.reason)
        }
    }

    // MARK: - Keep-alive

    func testKeepAliveFollowsVersionAndConnectionHeader() throws {
        let cases: [(String, Bool)] = [
            ("GET / HTTP/1.1\r\nHost: a\r\n\r\n", true),
            ("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false),
            ("GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, CLOSE\r\n\r\n", false),
            ("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n", true),
            ("GET / HTTP/1.0\r\n\r\n", false),
            ("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true),
            ("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", false),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(try head(text).keepAlive, expected, "request \(text.debugDescription)")
        }
    }

    func testHeaderTokensIgnoreCaseAndSpaces() throws {
        let parsed = try head("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive ,  UpGrade\r\n\r\n")
        XCTAssertTrue(parsed.headerContainsToken("connection", "upgrade"))
        XCTAssertTrue(parsed.headerContainsToken("CONNECTION", "Keep-Alive"))
        XCTAssertFalse(parsed.headerContainsToken("Connection", "close"))
    }

    // MARK: - Query

    func testQueryItemsArePercentDecoded() throws {
        let parsed = try head("GET /v1/ws?doc=a%20b%2Fc&user=x+y&flag&empty=&dup=1&dup=2&%C3%A9=%E2%82%AC HTTP/1.1\r\nHost: a\r\n\r\n")
        let items = parsed.queryItems
        XCTAssertEqual(items["doc"], "a b/c")
        XCTAssertEqual(items["user"], "x y")
        XCTAssertEqual(items["flag"], "")
        XCTAssertEqual(items["empty"], "")
        XCTAssertEqual(items["dup"], "1")
        XCTAssertEqual(items["é"], "€")
        XCTAssertEqual(parsed.path, "/v1/ws")
    }

    func testQueryKeepsInvalidPercentEscapes() throws {
        let items = try head("GET /?a=100%&b=%zz1&c=%4&d=%%41 HTTP/1.1\r\nHost: a\r\n\r\n").queryItems
        XCTAssertEqual(items["a"], "100%")
        XCTAssertEqual(items["b"], "%zz1")
        XCTAssertEqual(items["c"], "%4")
        XCTAssertEqual(items["d"], "%A")
    }

    func testQueryItemsEmptyWithoutQuery() throws {
        XCTAssertEqual(try head("GET /v1/ws HTTP/1.1\r\nHost: a\r\n\r\n").queryItems, [:])
        XCTAssertEqual(try head("GET /v1/ws? HTTP/1.1\r\nHost: a\r\n\r\n").queryItems, [:])
    }
}
