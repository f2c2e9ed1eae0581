import StreamStore
import Testing

@testable import stream_tool

/// The value spellings of CLI.md and the JSON line parser, tested in process.
@Suite struct ParsingTests {
    @Test func durations() async throws {
        #expect(try Parsing.durationMilliseconds("500ms") == 500)
        #expect(try Parsing.durationMilliseconds("30s") == 30_000)
        #expect(try Parsing.durationMilliseconds("15m") == 900_000)
        #expect(try Parsing.durationMilliseconds("12h") == 43_200_000)
        #expect(try Parsing.durationMilliseconds("7d") == 604_800_000)
        for bad in ["", "5", "ms", "-5s", "0s", "1.5h", "5 s", "5S", "99999999999999999999d", "9999999999999999d"] {
            #expect(throws: ToolError.self, "\(bad)") { try Parsing.durationMilliseconds(bad) }
        }
    }

    @Test func byteSizes() async throws {
        #expect(try Parsing.byteCount("1048576") == 1_048_576)
        #expect(try Parsing.byteCount("64KiB") == 65_536)
        #expect(try Parsing.byteCount("256MiB") == 268_435_456)
        #expect(try Parsing.byteCount("1GiB") == 1_073_741_824)
        #expect(try Parsing.byteCount("10B") == 10)
        for bad in ["", "MiB", "12MB", "1.5GiB", "-1", "1 KiB", "99999999999TiB"] {
            #expect(throws: ToolError.self, "\(bad)") { try Parsing.byteCount(bad) }
        }
    }

    @Test func retentionLimitsTakeUnlimited() async throws {
        #expect(try Parsing.durationLimitMilliseconds("30d", for: "retention") == 2_592_000_000)
        #expect(try Parsing.durationLimitMilliseconds("unlimited", for: "retention") == nil)
        #expect(try Parsing.durationLimitMilliseconds("none", for: "retention") == nil)
        #expect(try Parsing.byteLimit("10GiB", for: "retention-bytes") == 10_737_418_240)
        #expect(try Parsing.byteLimit("unlimited", for: "retention-bytes") == nil)
        #expect(try Parsing.byteLimit("none", for: "retention-bytes") == nil)
        for bad in ["0s", "forever", "-1d", "Unlimited"] {
            #expect(throws: ToolError.self, "\(bad)") { try Parsing.durationLimitMilliseconds(bad, for: "retention") }
        }
        for bad in ["0", "-1", "lots", "1.5GiB"] {
            #expect(throws: ToolError.self, "\(bad)") { try Parsing.byteLimit(bad, for: "retention-bytes") }
        }
        let message = try #require(throws: ToolError.self) { try Parsing.durationLimitMilliseconds("7 days", for: "retention") }.message
        #expect(message.hasSuffix("or unlimited."), "the error names the way to turn the limit off: \(message)")
    }

    @Test func agesAreTruncatedToTheirTwoLargestUnits() {
        #expect(Format.age(milliseconds: 0) == "0ms")
        #expect(Format.age(milliseconds: 850) == "850ms")
        #expect(Format.age(milliseconds: 12_999) == "12s")
        #expect(Format.age(milliseconds: 185_000) == "3m 05s")
        #expect(Format.age(milliseconds: 7_380_000) == "2h 03m")
        #expect(Format.age(milliseconds: 352_800_000) == "4d 02h")
    }

    @Test func times() async throws {
        #expect(try Parsing.timeMilliseconds("1764410400000") == 1_764_410_400_000)
        #expect(try Parsing.timeMilliseconds("2026-11-29T10:00:00Z") == 1_795_946_400_000)
        #expect(try Parsing.timeMilliseconds("2026-11-29T11:00:00+01:00") == 1_795_946_400_000)
        #expect(try Parsing.timeMilliseconds("2026-11-29T10:00:00.250Z") == 1_795_946_400_250)
        #expect(try Parsing.timeMilliseconds("2026-11-29T10:00Z") == 1_795_946_400_000)
        #expect(try Parsing.timeMilliseconds("2026-11-29") == 1_795_910_400_000)
        #expect(try Parsing.timeMilliseconds("1970-01-01T00:00:00Z") == 0)
        #expect(try Parsing.timeMilliseconds("2024-02-29T00:00:00Z") == 1_709_164_800_000)
        for bad in ["", "now", "2026-11-29T10:00:00", "2026-13-01", "2025-02-29", "2026-11-29T24:00Z", "2026-11-29T10:00:00.Z", "-5"] {
            #expect(throws: ToolError.self, "\(bad)") { try Parsing.timeMilliseconds(bad) }
        }
    }

    @Test func timestampsFormatAsISO8601AndParseBack() async throws {
        #expect(ISO8601.format(milliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(ISO8601.format(milliseconds: 1_795_946_400_250) == "2026-11-29T10:00:00.250Z")
        #expect(ISO8601.format(milliseconds: -1) == "1969-12-31T23:59:59.999Z")
        for milliseconds: Int64 in [0, 951_782_400_000, 1_709_164_800_001, 4_102_444_800_000, 253_402_300_799_999] {
            #expect(try Parsing.timeMilliseconds(ISO8601.format(milliseconds: milliseconds)) == milliseconds)
        }
    }

    @Test func headers() async throws {
        #expect(try Parsing.header("a=b=c") == RecordHeader(key: "a", value: "b=c"))
        #expect(try Parsing.header("empty=") == RecordHeader(key: "empty", value: ""))
        #expect(throws: ToolError.self) { try Parsing.header("=v") }
        #expect(throws: ToolError.self) { try Parsing.header("novalue") }
    }

    @Test func jsonLines() async throws {
        let full = try JSONLineParser.parse(
            #"{"key":"k","value":"v\u00e9\ud83d\ude00","headers":{"a":"1","b":null},"timestamp":"1970-01-01T00:00:01Z","partition":3}"#)
        #expect(full.key == Array("k".utf8))
        #expect(full.value == Array("vé😀".utf8))
        #expect(full.headers == [RecordHeader(key: "a", value: "1"), RecordHeader(key: "b", value: nil)])
        #expect(full.timestamp == 1000)
        #expect(full.partition == 3)

        let binary = try JSONLineParser.parse(#" {"keyBase64":"AAE=","valueBase64":"/w","topic":"t","offset":5} "#)
        #expect(binary.key == [0, 1])
        #expect(binary.value == [0xFF])

        #expect(try JSONLineParser.parse(#"{"value":null}"#).value == nil)
        #expect(try JSONLineParser.parse(#"{"value":"x","timestamp":42}"#).timestamp == 42)

        let bad = [
            "", "[]", "{", #"{"value":"x"} x"#, #"{"value":"x","value":"y"}"#, #"{"key":"a","keyBase64":"YQ==","value":""}"#,
            #"{"key":"k"}"#, #"{"value":1}"#, #"{"value":"x","partition":-1}"#, #"{"value":"x","partition":1.5}"#,
            #"{"value":"x","timestamp":"soon"}"#, #"{"value":"\ud800"}"#, #"{"value":"\x"}"#, "{\"value\":\"a\u{1}\"}",
            #"{"value":"x","headers":["a"]}"#, #"{"value":"x","extra":1}"#, #"{"valueBase64":"a"}"#, #"{"value":"x","timestamp":99999999999999999999}"#,
            String(repeating: "[", count: 100),
        ]
        for line in bad {
            #expect(throws: JSONLineParser.Failure.self, "\(line)") { try JSONLineParser.parse(line) }
        }
        // Raw bytes that are not UTF-8 inside a string are refused, not replaced.
        let invalid: [UInt8] = Array(#"{"value":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        #expect(throws: JSONLineParser.Failure.self) { try invalid.withUnsafeBytes { try JSONLineParser.parse($0) } }
    }

    /// Seeded random mutations of valid lines: the parser must answer every one with a record or
    /// a `Failure`, never a trap. The seed is in the test so a failure reproduces.
    @Test func jsonLineParserSurvivesMutatedInput() {
        let seeds = [
            #"{"key":"customer-17","value":"v\u00e9\n","headers":{"a":"1","b":null},"timestamp":"2026-11-29T10:00:00.5+01:00","partition":3}"#,
            #"{"keyBase64":"AAE=","valueBase64":"/wD+","timestamp":1714564800123,"topic":"t","offset":[1,{"x":true}]}"#,
            #"{"value":"\ud83d\ude00 -0.5e+3","partition":0,"headersBase64":{"h":"AA=="}}"#,
        ].map { Array($0.utf8) }
        var random = SplitMix64(seed: 0x5EED)
        var parsed = 0
        for _ in 0..<20_000 {
            var line = seeds[random.below(seeds.count)]
            for _ in 0..<(1 + random.below(4)) {
                let position = random.below(line.count + 1)
                switch random.below(4) {
                case 0 where position < line.count: line[position] ^= UInt8(truncatingIfNeeded: 1 << random.below(8))
                case 1: line.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
                case 2 where position < line.count: line.remove(at: position)
                default: line.insert(contentsOf: line[position...].prefix(random.below(8)), at: position)
                }
            }
            if (try? line.withUnsafeBytes { try JSONLineParser.parse($0) }) != nil { parsed += 1 }
        }
        #expect(parsed > 0)
    }

    @Test func base64AndUTF8() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64.decode(Array(Base64.encode(bytes).utf8)) == bytes)
        }
        #expect(Base64.encode(Array("hello".utf8)) == "aGVsbG8=")
        #expect(Base64.decode(Array("aGVsbG9=".utf8)) == nil)  // non-zero leftover bits
        #expect(UTF8Validation.isValid(Array("plain ascii, long enough for the fast path".utf8)))
        #expect(UTF8Validation.isValid(Array("ü€😀".utf8)))
        for bad: [UInt8] in [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80]] {
            #expect(!UTF8Validation.isValid(bad))
        }
    }
}
