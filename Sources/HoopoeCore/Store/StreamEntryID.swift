/// The order of Redis stream entry ids (`<ms>-<seq>`, decimal, no leading zeros) compared as text, without parsing
/// them into numbers: of two numbers the longer is the greater, and of two of one length the later in byte order.
enum StreamEntryID {
    /// Whether `a` is older than `b`. An id that is not `<digits>-<digits>` precedes nothing and follows nothing:
    /// the acknowledge script then removes entries one by one, as it does for any batch it cannot order.
    static func precedes(_ a: String, _ b: String) -> Bool {
        guard let (am, aseq) = parts(a), let (bm, bseq) = parts(b) else { return false }
        if !am.elementsEqual(bm) { return less(am, bm) }
        return less(aseq, bseq)
    }

    private static func parts(_ id: String) -> (Substring.UTF8View, Substring.UTF8View)? {
        let bytes = id.utf8
        guard let dash = bytes.firstIndex(of: UInt8(ascii: "-")) else { return nil }
        let ms = id[..<dash].utf8
        let seq = id[bytes.index(after: dash)...].utf8
        guard !ms.isEmpty, !seq.isEmpty, ms.allSatisfy(isDigit), seq.allSatisfy(isDigit) else { return nil }
        return (ms, seq)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func less(_ a: Substring.UTF8View, _ b: Substring.UTF8View) -> Bool {
        a.count != b.count ? a.count < b.count : a.lexicographicallyPrecedes(b)
    }
}
