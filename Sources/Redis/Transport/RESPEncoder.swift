/// Writes commands as RESP arrays of bulk strings into one reusable buffer, so a batch leaves in one `write`.
///
/// Formatted here rather than by hiredis's `redisFormatCommandArgv`: that allocates a C string per command (and a
/// pointer array to call it), which would then be copied into the batch's buffer; this appends each argument once,
/// straight from ``RedisCommand``'s own buffer.
struct RESPEncoder {
    /// The bytes to send; emptied (capacity kept) by ``reset()``.
    private(set) var bytes: [UInt8] = []

    init() {
        bytes.reserveCapacity(16 * 1024)
    }

    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
    }

    /// `*<count>\r\n` then `$<length>\r\n<bytes>\r\n` per argument.
    mutating func append(_ command: RedisCommand) {
        bytes.append(UInt8(ascii: "*"))
        appendLine(command.lengths.count)
        var offset = 0
        command.buffer.withUnsafeBufferPointer { argumentBytes in
            for length in command.lengths {
                bytes.append(UInt8(ascii: "$"))
                appendLine(length)
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: argumentBytes[offset..<offset + length]))
                bytes.append(13)
                bytes.append(10)
                offset += length
            }
        }
    }

    /// A non-negative number in decimal, then CRLF, without building a `String`.
    private mutating func appendLine(_ number: Int) {
        if number < 10 {
            bytes.append(UInt8(48 + number))
        } else {
            var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            var count = 0
            var rest = number
            withUnsafeMutableBytes(of: &digits) { raw in
                while rest > 0 {
                    raw[count] = UInt8(48 + rest % 10)
                    rest /= 10
                    count += 1
                }
                for index in stride(from: count - 1, through: 0, by: -1) { bytes.append(raw[index]) }
            }
        }
        bytes.append(13)
        bytes.append(10)
    }
}
