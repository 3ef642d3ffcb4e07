import Foundation
import HoopoeJSON
import Testing

@testable import HoopoeCore

/// The worker's one-pass envelope reader must agree with the full decoder on every envelope it accepts,
/// and decline (so the full decoder decides) anything unusual.
@Suite struct EnvelopeScanTests {
    /// A short decimal (an `enqueued_at` with milliseconds, or Python's `time.time()` with 16–17 digits) is read
    /// without strtod, to the same double, rounding included.
    @Test func shortDecimalsAreReadAsDoubleReadsThem() {
        func short(_ text: String) -> Double? {
            Array(text.utf8).withUnsafeBufferPointer { EnvelopeScan.shortDecimal($0) }
        }
        var random = SeededRandom(seed: 0x5C)
        var answered = 0
        var past53Bits = 0
        for _ in 0..<40_000 {
            let whole = String(UInt64.random(in: 0...9_999_999_999, using: &random) >> UInt64.random(in: 0...40, using: &random))
            let fraction = String(String(UInt64.random(in: 0...UInt64.max, using: &random)).prefix(Int.random(in: 1...19, using: &random)))
            let text = (Bool.random(using: &random) ? "-" : "") + whole + "." + fraction
            if let value = short(text) {
                answered += 1
                if UInt64((whole + fraction).drop { $0 == "0" }.prefix(19)).map({ $0 > 1 << 53 }) == true { past53Bits += 1 }
                #expect(value.bitPattern == Double(text)!.bitPattern, "\(text)")
            }
        }
        #expect(answered > 25_000 && past53Bits > 5_000, "\(answered) answered, \(past53Bits) past 2^53")
        // Every number of digits and decimal places, with 19-digit mantissas (the most a UInt64 holds here).
        for _ in 0..<20_000 {
            let digits = String(UInt64.random(in: 1_000_000_000_000_000_000...9_999_999_999_999_999_999, using: &random)).prefix(Int.random(in: 2...19, using: &random))
            let point = Int.random(in: 1..<digits.count, using: &random)
            let text = digits.prefix(point) + "." + digits.dropFirst(point)
            #expect(short(String(text))?.bitPattern == Double(String(text))!.bitPattern, "\(text)")
        }
        #expect(short("1795400000.123") == 1_795_400_000.123 && short("-0.0")!.sign == .minus && short("0.1") == 0.1)
        #expect(short("1796057893.032301") == 1_796_057_893.032301 && short("0.0000000000000001") == 1e-16)
        // Halfway between two doubles: to the even one, as strtod.
        for text in [
            "9007199254740993.0", "9007199254740995.0", "4503599627370497.5", "4503599627370498.5", "1234567890.1234567", "9007199254.7409930",
            "0.00000000000000001", "999999999999999999.9",
        ] {
            #expect(short(text)?.bitPattern == Double(text)!.bitPattern, "\(text)")
        }
        for other in ["12", "1e3", "1.5e3", "0.0000000000000000001", "12345678901234567890.5", "1.2.3"] {
            #expect(short(other) == nil, "\(other)")
        }
    }

    /// Payloads that stress the value skipper: nesting, escapes, Persian text, numbers of every form.
    static let payloads: [String] = [
        #"{}"#, #"[]"#, #"null"#, #"true"#, #"-12.5e+3"#, #""just a string""#,
        #"{"key":"k","member":"m"}"#,
        #"{"text":"quote \" and backslash \\ and brace } and bracket ]","n":[1,2,[3,{"a":null}]]}"#,
        #"{"name":"مریم","city":"\u062a\u0647\u0631\u0627\u0646","emoji":"\ud83d\udc26"}"#,
        #"{ "spaced" : [ 1 , 2 ] , "deep" : { "x" : { "y" : [ ] } } }"#,
        #"{"big":12345678901234567890,"small":1E-7,"neg":-0}"#,
    ]

    @Test(arguments: payloads)
    func agreesWithTheFullDecoder(payload: String) throws {
        for envelope in [
            #"{"id":"j1","type":"sms.send","queue":"critical","payload":\#(payload),"attempt":2,"max_attempts":5,"enqueued_at":1795400000.25,"timeout":30,"unique_key":"u"}"#,
            // Python's json.dumps spacing, fields in another order, optional fields absent.
            #"{"payload": \#(payload), "type": "sms.send", "id": "j1", "enqueued_at": 1795400000}"#,
        ] {
            let bytes = Array(envelope.utf8)
            let full = try JobEnvelope.decode(bytes)
            let scan = try #require(EnvelopeScan.scan(bytes), "the plain shape is read in one pass: \(envelope)")
            #expect(scan.id == full.id && scan.type == full.type && scan.attempt == full.attempt)
            #expect(scan.maxAttempts == full.maxAttempts && scan.enqueuedAt == full.enqueuedAt)
            #expect(scan.timeout == full.timeout && scan.uniqueKey == full.uniqueKey)
            #expect(scan.queue == full.queue)
            // The payload bytes decode to the same value the full decoder saw.
            let payloadBytes = Array(bytes[try #require(scan.payload)])
            #expect(try JSONDecoder().decode(JSONValue.self, from: Data(payloadBytes)) == full.payload, "\(envelope)")
        }
    }

    /// The stream's queue name is the header's when the envelope names the same queue, and the envelope's own when it
    /// names another (or none, or one with escapes: then the full decoder reads it).
    @Test func keepsTheStreamsQueueNameOnlyWhenTheEnvelopeNamesTheSame() {
        func queue(_ named: String, stream: String) -> String? {
            EnvelopeScan.scan(Array(#"{"id":"j","type":"t","queue":\#(named),"payload":{}}"#.utf8), streamQueue: stream)?.queue
        }
        #expect(queue(#""default""#, stream: "default") == "default")
        #expect(queue(#""mail""#, stream: "default") == "mail")
        #expect(queue(#""defaul""#, stream: "default") == "defaul")
        #expect(queue(#""ارسال""#, stream: "ارسال") == "ارسال")
        #expect(queue(#""""#, stream: "default") == "")
        #expect(queue("null", stream: "default") == nil)
        #expect(queue(#""de\u0066ault""#, stream: "default") == nil)
        #expect(EnvelopeScan.scan(Array(#"{"id":"j","type":"t","payload":{}}"#.utf8), streamQueue: "default")?.queue == "")
    }

    @Test(arguments: [
        "this is { not json",
        #"{"id":"j","payload":{}}"#,  // no type
        #"{"id":"j","type":"t"}"#,  // no payload
        #"{"id":"j","type":"t","payload":{}} trailing"#,
        #"{"id":"j","type":"t","payload":{},"id":"again"}"#,  // duplicate key
        #"{"id":"j\"x","type":"t","payload":{}}"#,  // an escape in a text field
        #"{"id":"j","type":"t","payload":{"a":[1,2}}"#,  // broken payload
        #"{"id":"j","type":"t","payload":{},"attempt":"1"}"#,  // a number as a string
        #"{"id":"j","type":"t","payload":"\u12"}"#,  // a short \u escape
        "",
    ])
    func declinesWhatItDoesNotHandle(envelope: String) {
        #expect(EnvelopeScan.scan(Array(envelope.utf8)) == nil, "\(envelope)")
    }
}
