/// Seeds for the JSON line parser: the lines `replay --format json` writes and `produce` reads,
/// with every member, escapes, base64, ISO 8601 times, and a few near misses.
enum JSONLineSeeds {
    static func make() -> [(name: String, bytes: [UInt8])] {
        [
            ("full", #"{"key":"customer-17","value":"v\u00e9\n","headers":{"a":"1","b":null},"timestamp":"2026-11-29T10:00:00.5+01:00","partition":3}"#),
            ("base64", #"{"keyBase64":"AAE=","valueBase64":"/wD+","timestamp":1714564800123,"topic":"t","offset":[1,{"x":true}]}"#),
            ("surrogates-and-numbers", #"{"value":"\ud83d\ude00 -0.5e+3","partition":0,"headersBase64":{"h":"AA=="}}"#),
            ("tombstone", #"{"key":"k","value":null}"#),
            ("replay-output", #"{"topic":"orders","partition":0,"offset":42,"timestamp":"2025-11-29T10:00:00.000Z","key":"customer-17","value":"{\"type\":\"order-placed\"}","headers":{"correlation-id":"c-1"}}"#),
            ("date-only", #" {"value":"x","timestamp":"2024-02-29"} "#),
            ("unknown-member", #"{"value":"x","vaule":"y"}"#),
            ("deep", String(repeating: "[", count: 17) + String(repeating: "]", count: 17)),
        ].map { ($0.0, Array($0.1.utf8)) }
    }
}
