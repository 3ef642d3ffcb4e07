/// The Redis Cluster slot of a key: CRC16 (XMODEM) of its hash tag — the part between the first `{` and the next
/// `}` when that part is not empty — or of the whole key, modulo 16384 (the cluster specification, "Keys hash tags").
enum HashSlot {
    /// The slot of `key`.
    static func of(_ key: String) -> Int {
        var bytes = Array(key.utf8)
        if let open = bytes.firstIndex(of: UInt8(ascii: "{")),
           let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1 {
            bytes = Array(bytes[(open + 1)..<close])
        }
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        }
        return Int(crc) % 16_384
    }

    /// Keys of one script or transaction that would span slots (Redis Cluster refuses it with `CROSSSLOT`).
    struct CrossSlot: Error, CustomStringConvertible {
        let operation: String
        let keys: [String]
        var description: String { "\(operation): keys in more than one cluster slot: \(keys.joined(separator: ", "))" }
    }

    /// Throws ``CrossSlot`` when `keys` span slots. Checked in debug builds only (every test run): every domain key
    /// starts `<ns>:{tag}:`, so the first braces are always the code's tag and no id in the rest can move the key.
    static func requireOne(_ keys: [String], for operation: @autoclosure () -> String) throws(CrossSlot) {
        #if DEBUG
        guard let first = keys.first else { return }
        let slot = of(first)
        if keys.dropFirst().contains(where: { of($0) != slot }) { throw CrossSlot(operation: operation(), keys: keys) }
        #endif
    }
}
