import PresenceCore
import XCTest

final class SeaHashTests: XCTestCase {
    /// Values of `seahash::hash` from the Rust crate, version 4: the crate's own published vector
    /// first, the others computed with the `seahash` 0.2.0 Python package, which wraps that crate.
    private let vectors: [(input: [UInt8], hash: UInt64)] = [
        (Array("to be or not to be".utf8), 1_988_685_042_348_123_509),
        ([], 14_492_805_990_617_963_705),
        (Array("a".utf8), 3_009_532_316_786_026_829),
        (Array("u1".utf8), 12_353_773_667_973_295_432),
        (Array("abcdefgh".utf8), 1_524_554_436_498_563_858),
        (Array("love is a wonderful terrible thing".utf8), 4_784_284_276_849_692_846),
        (Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8), 811_103_773_009_490_470),
        (Array(0..<64), 13_143_747_251_591_502_704),
        (Array("ünïcødé-用户".utf8), 15_217_070_859_143_389_108),
    ]

    func testHashMatchesReferenceVectors() {
        for vector in vectors {
            XCTAssertEqual(SeaHash.hash(vector.input), vector.hash, "input \(vector.input)")
        }
    }

    func testStringHashUsesUTF8() {
        XCTAssertEqual(SeaHash.hash("to be or not to be"), 1_988_685_042_348_123_509)
        XCTAssertEqual(SeaHash.hash("ünïcødé-用户"), 15_217_070_859_143_389_108)
    }

    func testDefaultColorIsIntegerHue() {
        // 12353773667973295432 % 360 == 112
        XCTAssertEqual(defaultColor(forUserID: "u1"), "hsl(112, 70%, 50%)")
        XCTAssertFalse(defaultColor(forUserID: "someone").contains("."))
    }
}
