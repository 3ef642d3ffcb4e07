/// The `id` and `type` of an envelope no decoder reads (a leading zero, nesting too deep, trailing garbage, a missing
/// brace), read from its top-level members up to the point where the text breaks.
///
/// Why: such a job was filed in the dead set under `entry-<stream id>`, though its `"id"` was plain to see, so
/// `hoopoe dead show <id>` found nothing. Tolerant but narrow, so it never files a job under a wrong id: only members of
/// the outermost object, read in order and stopping at the first thing that is not JSON; only a value that is a string
/// without escapes and passes ``EnvelopeRules``' rule for its field; and none when the key appears twice.
enum EnvelopeIdentityScan {
    static func scan(_ bytes: [UInt8]) -> (id: String?, type: String?) {
        var index = 0
        var id: String?? = nil  // .some(nil): seen twice, or not a plain valid value
        var type: String?? = nil
        func skipSpace() {
            while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
        }
        /// A string at `index`: its raw bytes, and whether they hold an escape. Nil when it does not close.
        func string() -> (bytes: ArraySlice<UInt8>, escaped: Bool)? {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            let start = index + 1
            var escaped = false
            index += 1
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    index += 1
                    return (bytes[start..<(index - 1)], escaped)
                case UInt8(ascii: "\\"):
                    escaped = true
                    index += 2
                default:
                    index += 1
                }
            }
            return nil
        }
        /// Skips a value other than a string: to the next `,` or `}` outside strings at this depth. False at the end.
        func skipValue() -> Bool {
            var depth = 0
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    guard string() != nil else { return false }
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    if depth == 0 { return true }
                    depth -= 1
                case UInt8(ascii: ","):
                    if depth == 0 { return true }
                default:
                    break
                }
                index += 1
            }
            return false
        }
        func found(_ value: String?, _ previous: String??) -> String?? {
            previous == nil ? .some(value) : .some(nil)
        }

        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return (nil, nil) }
        index += 1
        members: while true {
            skipSpace()
            guard let key = string(), !key.escaped else { break }
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { break }
            index += 1
            skipSpace()
            let name = String(decoding: key.bytes, as: UTF8.self)
            if index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
                guard let value = string() else { break }
                let text = value.escaped ? nil : String(validating: value.bytes, as: UTF8.self)
                if name == "id" {
                    id = found(text.flatMap { EnvelopeRules.idProblem($0) == nil ? $0 : nil }, id)
                } else if name == "type" {
                    type = found(text.flatMap { EnvelopeRules.typeProblem($0) == nil ? $0 : nil }, type)
                }
            } else {
                if name == "id" || name == "type" {
                    if name == "id" { id = .some(nil) } else { type = .some(nil) }
                }
                guard skipValue() else { break }
            }
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ",") else { break }
            index += 1
        }
        return (id ?? nil, type ?? nil)
    }
}
