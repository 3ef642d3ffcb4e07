/// The fields of an `application/x-www-form-urlencoded` body or a URL query, in order, repeated names kept (the
/// dead page's checkboxes send `id` once per selected job).
struct FormFields: Sendable {
    private var pairs: [(String, String)] = []

    /// Parses `name=value&…` (`+` is a space, `%XX` a byte; a malformed escape is kept as written).
    init(_ text: String?) {
        guard let text, !text.isEmpty else { return }
        for part in text.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(pieces[0])
            let value = pieces.count > 1 ? Self.decode(pieces[1]) : ""
            pairs.append((name, value))
        }
    }

    /// The first value of `name`, nil when absent; an empty value reads as absent.
    subscript(_ name: String) -> String? {
        guard let value = pairs.first(where: { $0.0 == name })?.1, !value.isEmpty else { return nil }
        return value
    }

    /// Every value of `name`, in order.
    func all(_ name: String) -> [String] { pairs.filter { $0.0 == name }.map(\.1).filter { !$0.isEmpty } }

    /// `name` as a whole number from 0 to ``maxOffset``, else `fallback`. Bounded so that a page's arithmetic on it
    /// (`offset + limit`) cannot overflow and trap the process: a GET needs no CSRF token.
    func offset(_ name: String, fallback: Int = 0) -> Int {
        self[name].flatMap(Int.init).map { min(max(0, $0), Self.maxOffset) } ?? fallback
    }

    /// The largest offset a page takes: past any set Redis holds.
    static let maxOffset = 1 << 40

    private static func decode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), utf8.count >= 2, let high = hex(utf8[utf8.startIndex]), let low = hex(utf8[utf8.startIndex + 1]) {
                bytes.append(high << 4 | low)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Builds a query string from pairs, each value percent-encoded (for links that keep a page's filters).
enum QueryString {
    static func make(_ pairs: [(String, String?)]) -> String {
        let parts = pairs.compactMap { name, value -> String? in
            guard let value, !value.isEmpty else { return nil }
            return name + "=" + encode(value)
        }
        return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
    }

    static func encode(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                result += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return result
    }
}
