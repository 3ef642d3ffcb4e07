/// The Redis Cluster slot of a key: CRC16 (XMODEM) of its hash tag — the part between the first `{` and the next
/// `}` when that part is not empty — or of the whole key, modulo 16384 (the cluster specification, "Keys hash tags").
///
/// One type for the whole project: the cluster client routes each command by it, and the domain stores check their
/// scripts' keys with it in debug builds (``requireOne(_:for:)``).
public enum HashSlot {
    /// How many slots a cluster has.
    public static let count = 16_384

    /// The slot of `key`.
    public static func of(_ key: String) -> Int {
        of(bytes: key.utf8)
    }

    /// The slot of a key given as bytes (a command's argument).
    public static func of(bytes key: some Collection<UInt8>) -> Int {
        // A command's argument is contiguous: read through a pointer, without the collection's index checks a byte.
        if let slot = key.withContiguousStorageIfAvailable({ slot(of: $0) }) { return slot }
        return slot(of: key)
    }

    private static func slot(of key: some Collection<UInt8>) -> Int {
        var start = key.startIndex
        var end = key.endIndex
        if let open = key.firstIndex(of: UInt8(ascii: "{")) {
            let afterOpen = key.index(after: open)
            if let close = key[afterOpen...].firstIndex(of: UInt8(ascii: "}")), close != afterOpen {
                start = afterOpen
                end = close
            }
        }
        var crc: UInt16 = 0
        for byte in key[start..<end] {
            crc = (crc << 8) ^ crcTable[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
        }
        return Int(crc) % count
    }

    /// The CRC16 (XMODEM: polynomial 0x1021, no reflection) of each byte value, so a key costs one lookup a byte instead
    /// of eight shifts: a cluster worker routes every command by it (a job's `INCR` key cost ~800 instructions bit by bit;
    /// callgrind, session 49).
    private static let crcTable: [UInt16] = (0..<256).map { value in
        var crc = UInt16(value) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        return crc
    }

    /// Keys of one script or transaction that would span slots (Redis Cluster refuses it with `CROSSSLOT`).
    public struct CrossSlot: Error, Sendable, CustomStringConvertible {
        /// The script or transaction.
        public let operation: String
        /// All its keys.
        public let keys: [String]
        public init(operation: String, keys: [String]) {
            self.operation = operation
            self.keys = keys
        }
        public var description: String { "\(operation): keys in more than one cluster slot: \(keys.joined(separator: ", "))" }
    }

    /// Throws ``CrossSlot`` when `keys` span slots. Checked in debug builds only (every test run): every domain key
    /// starts `<ns>:{tag}:`, so the first braces are always the code's tag and no id in the rest can move the key.
    /// (The cluster client checks every script and transaction it sends, in every build.)
    public static func requireOne(_ keys: [String], for operation: @autoclosure () -> String) throws(CrossSlot) {
        #if DEBUG
        guard let first = keys.first else { return }
        let slot = of(first)
        if keys.dropFirst().contains(where: { of($0) != slot }) { throw CrossSlot(operation: operation(), keys: keys) }
        #endif
    }
}
