import Foundation

/// What `JSONEncoder` writes with the envelope protocol's options (sorted keys, unescaped slashes): the bytes the
/// hand-written writers (`CompactJSONWriter`, `ScratchJSONWriter`) are compared with.
func encoderReference(_ value: some Encodable) throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return Array(try encoder.encode(value))
}
