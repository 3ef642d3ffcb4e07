import Foundation
import HoopoeJSON
import Testing

@testable import HoopoeCore

/// ``ScratchJSONWriter`` writes every envelope: on the stack up to ``ScratchJSONWriter/stackBytes``, on the heap past
/// them. Whatever the size, the bytes must be what `JSONEncoder` writes (the protocol's bytes), and a refused number
/// must refuse the envelope after the move too. (`CompactJSONWriterTests` compares envelopes of every field and
/// thousands of random ones, nearly all under the stack's size.)
@Suite struct ScratchJSONWriterTests {
    @Test func bytesWrittenOneAtATimeOrInRunsComeBackWhole() {
        let stack = ScratchJSONWriter.stackBytes
        for length in [0, 1, stack - 1, stack, stack + 1, 2 * stack + 3, 9_000] {
            let expected = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 7 + 1) }
            let single = ScratchJSONWriter.write { (writer: inout ScratchJSONWriter) in
                for byte in expected { writer.append(byte) }
            }
            #expect(single == expected, "one at a time, \(length) bytes")
            let runs = ScratchJSONWriter.write { (writer: inout ScratchJSONWriter) in
                var start = 0
                while start < expected.count {  // runs of 1 to 300 bytes, so some cross the stack's end
                    let end = min(expected.count, start + 1 + start % 300)
                    expected[start..<end].withUnsafeBufferPointer { writer.append($0) }
                    start = end
                }
            }
            #expect(runs == expected, "in runs, \(length) bytes")
        }
    }

    @Test func anEnvelopeOfAnySizeIsWrittenAsTheEncoderWritesIt() throws {
        let stack = ScratchJSONWriter.stackBytes
        for noteLength in [0, stack - 120, stack - 90, stack - 60, stack, 3 * stack, 70_000] {
            let note = String(repeating: "ab\"/", count: noteLength / 4) + String(repeating: "x", count: noteLength % 4)
            let envelope = JobEnvelope(
                id: "01JABCDEFGHJKMNPQRSTVWXYZ0", type: "sms.send", queue: "default",
                payload: [
                    "note": .string(note), "tags": .array([.string("سلام"), .integer(7), .double(0.5), .bool(true), .null]),
                ],
                enqueuedAt: 1_764_507_478.123456)
            let written = envelope.encoded()
            #expect(written == (try encoderReference(envelope)), "a note of \(noteLength) bytes")
            #expect(written.count > noteLength)
        }
    }

    @Test func aNumberJSONCannotCarryRefusesTheEnvelopeAfterItOutgrewTheStack() {
        let long = String(repeating: "y", count: 3 * ScratchJSONWriter.stackBytes)
        // Keys in sorted order: "a" (the long text) is written before "z" (NaN), so the writer has moved to the heap.
        let envelope = JobEnvelope(type: "t", payload: .object(["a": .string(long), "z": .double(.nan)]))
        #expect(envelope.encoded().isEmpty)
        #expect(!JobEnvelope(type: "t", payload: .object(["a": .string(long)])).encoded().isEmpty)
    }
}
