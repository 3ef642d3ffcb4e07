/// Where a command goes in a Redis Cluster: the slot of its keys, any node (no keys), or nowhere (keys in more
/// than one slot, which the cluster would refuse with `CROSSSLOT`).
///
/// Why a table of key positions, not `COMMAND GETKEYS` or `COMMAND INFO`'s key specs: the table costs no round trip
/// (`GETKEYS` would be one per command; key specs one per connection and a parser for begin-search/find-keys
/// specs), it is read only in cluster mode, and Hoopoe sends a known, small set of commands (decision 0026). A
/// command not in the table is taken to have its key first (`GET key`, `HSET key ...`), true of nearly every
/// data command; the commands that are not so are listed.
public enum ClusterRoute: Sendable, Equatable {
    /// No keys: any primary will do.
    case anyNode
    /// Every key is in this slot.
    case slot(Int)
    /// The keys span slots.
    case crossSlot(keys: [String])

    /// The route of `command`.
    public init(_ command: RedisCommand) {
        // Most commands have their key first and no rule: routed without a list of positions made for them.
        let rule = Self.rule(of: command)
        if rule == nil {
            self = command.count > 1 ? .slot(HashSlot.of(bytes: command.argument(1))) : .anyNode
            return
        }
        let positions = Self.keyPositions(command, rule: rule)
        guard let first = positions.first else {
            self = .anyNode
            return
        }
        let slot = HashSlot.of(bytes: command.argument(first))
        for position in positions.dropFirst() where HashSlot.of(bytes: command.argument(position)) != slot {
            self = .crossSlot(keys: positions.map { String(decoding: command.argument($0), as: UTF8.self) })
            return
        }
        self = .slot(slot)
    }

    /// The routes of several commands that must run on one node in one go (a `MULTI`/`EXEC` block): one slot, any
    /// node when none has keys, or cross-slot naming every key.
    public init(together commands: some Sequence<RedisCommand>) {
        var slot: Int?
        var keys: [String] = []
        var spans = false
        for command in commands {
            for position in Self.keyPositions(command, rule: Self.rule(of: command)) {
                let bytes = command.argument(position)
                keys.append(String(decoding: bytes, as: UTF8.self))
                let this = HashSlot.of(bytes: bytes)
                if let slot, slot != this { spans = true }
                slot = slot ?? this
            }
        }
        if spans {
            self = .crossSlot(keys: keys)
        } else if let slot {
            self = .slot(slot)
        } else {
            self = .anyNode
        }
    }

    /// Commands without keys (server, connection and script-cache commands).
    static let keyless: Set<String> = [
        "PING", "ECHO", "INFO", "TIME", "CLIENT", "SCRIPT", "FUNCTION", "CLUSTER", "COMMAND", "CONFIG", "DBSIZE", "HELLO",
        "AUTH", "SELECT", "ROLE", "WAIT", "MULTI", "EXEC", "DISCARD", "ASKING", "READONLY", "READWRITE", "PUBLISH",
        "SCAN", "RANDOMKEY", "FLUSHALL", "FLUSHDB", "LASTSAVE", "SAVE", "BGSAVE", "BGREWRITEAOF", "SLOWLOG", "LATENCY",
        "MONITOR", "SUBSCRIBE", "PSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "DEBUG", "ACL", "QUIT", "RESET", "MODULE",
        "SHUTDOWN", "SWAPDB", "UNWATCH", "LOLWUT", "FAILOVER", "REPLICAOF", "SLAVEOF",
    ]
    /// Commands whose every argument is a key.
    static let allKeys: Set<String> = [
        "DEL", "UNLINK", "EXISTS", "MGET", "TOUCH", "WATCH", "SINTER", "SUNION", "SDIFF", "SINTERSTORE", "SUNIONSTORE",
        "SDIFFSTORE", "PFCOUNT", "PFMERGE", "RENAME", "RENAMENX",
    ]
    /// Commands whose first two arguments are keys.
    static let twoKeys: Set<String> = ["RPOPLPUSH", "BRPOPLPUSH", "LMOVE", "BLMOVE", "SMOVE", "COPY"]
    /// Commands `NAME SUBCOMMAND key ...`.
    static let subcommandThenKey: Set<String> = ["XGROUP", "XINFO", "OBJECT", "MEMORY"]
    /// Scripts and functions: `NAME script-or-sha numkeys key ...`.
    static let scripts: Set<String> = ["EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"]

    /// Where a command's keys are: one dictionary lookup a command on the hot path, not a set lookup for each set
    /// above, and each command that places its keys its own way named once, here, with its rule.
    enum KeyRule {
        case noKeys, script, all, firstTwo, afterSubcommand
        /// `XREAD`, `XREADGROUP`: the streams after `STREAMS`, as many as the ids after them.
        case afterStreams
        /// `MSET`, `MSETNX`: every other argument.
        case alternate
        /// `BLPOP` and kin: all but the timeout at the end.
        case allButLast
        /// `ZUNIONSTORE` and kin: the destination, then `numkeys` keys after the count.
        case destinationThenCounted
        /// `ZUNION`, `LMPOP` and kin: `numkeys` keys after the count, which comes first.
        case countedFirst
        /// `BLMPOP`, `BZMPOP`: `numkeys` keys after the timeout and the count.
        case countedAfterTimeout
    }

    /// A command's name as a dictionary key: its bytes upper-cased, packed into two words. Looked up for every command a
    /// cluster client sends, so it is made from the command's bytes with no string: a `String` key cost a string made, a
    /// failed lookup, `uppercased()` and a second lookup for every command not in the table (an `INCR`, an `HSET`), ~1,000
    /// instructions (callgrind, session 49).
    struct Name: Hashable {
        private var low: UInt64 = 0
        private var high: UInt64 = 0
        private let length: Int

        /// Nil for a name longer than 16 bytes: none in the table is.
        init?(_ bytes: some Collection<UInt8>) {
            guard bytes.count <= 16 else { return nil }
            length = bytes.count
            for (index, byte) in bytes.enumerated() {
                let upper = UInt64(byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte)
                if index < 8 { low |= upper << (8 * index) } else { high |= upper << (8 * (index - 8)) }
            }
        }

        /// One word hashed, not three: the names differ in their first bytes.
        func hash(into hasher: inout Hasher) {
            hasher.combine(low ^ (high &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(length))
        }
    }

    /// The rule of `command`'s name, nil when it has its key first.
    static func rule(of command: RedisCommand) -> KeyRule? {
        guard command.count > 0, let name = Name(command.argument(0)) else { return nil }
        return rules[name]
    }

    /// Each listed command's rule; a command not in it has its key first.
    static let rules: [Name: KeyRule] = {
        var rules: [String: KeyRule] = [:]
        for name in keyless { rules[name] = .noKeys }
        for name in scripts { rules[name] = .script }
        for name in allKeys { rules[name] = .all }
        for name in twoKeys { rules[name] = .firstTwo }
        for name in subcommandThenKey { rules[name] = .afterSubcommand }
        for name in ["XREAD", "XREADGROUP"] { rules[name] = .afterStreams }
        for name in ["MSET", "MSETNX"] { rules[name] = .alternate }
        for name in ["BLPOP", "BRPOP", "BZPOPMIN", "BZPOPMAX"] { rules[name] = .allButLast }
        for name in ["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"] { rules[name] = .destinationThenCounted }
        for name in ["ZUNION", "ZINTER", "ZDIFF", "LMPOP", "ZMPOP", "SINTERCARD", "ZINTERCARD"] { rules[name] = .countedFirst }
        for name in ["BLMPOP", "BZMPOP"] { rules[name] = .countedAfterTimeout }
        return Dictionary(uniqueKeysWithValues: rules.map { name, rule in
            guard let key = Name(name.utf8) else { preconditionFailure("\(name): a command name of more than 16 bytes") }
            return (key, rule)
        })
    }()

    /// The argument positions (the name is 0) that hold keys, by the name's `rule` (``rule(of:)``).
    static func keyPositions(_ command: RedisCommand, rule: KeyRule?) -> [Int] {
        let count = command.count
        guard count > 1 else { return [] }
        switch rule {
        case nil:
            return [1]
        case .noKeys?:
            return []
        case .script?:
            guard count > 2 else { return [] }
            return counted(command, countAt: 2, count: count)
        case .all?:
            return Array(1..<count)
        case .firstTwo?:
            return Array(1..<min(count, 3))
        case .afterSubcommand?:
            return count > 2 ? [2] : []
        case .afterStreams?:
            guard let streams = (1..<count).first(where: { String(decoding: command.argument($0), as: UTF8.self).uppercased() == "STREAMS" })
            else { return [] }
            let n = (count - streams - 1) / 2
            return Array((streams + 1)..<(streams + 1 + n))
        case .alternate?:
            return Array(stride(from: 1, to: count, by: 2))
        case .allButLast?:
            return Array(1..<max(1, count - 1))
        case .destinationThenCounted?:
            guard count > 2 else { return [1] }
            return [1] + counted(command, countAt: 2, count: count)
        case .countedFirst?:
            return counted(command, countAt: 1, count: count)
        case .countedAfterTimeout?:
            guard count > 2 else { return [] }
            return counted(command, countAt: 2, count: count)
        }
    }

    /// The positions of the keys a count at `countAt` announces, right after it, as far as the command goes. None for a
    /// count that is not a positive number: Redis refuses such a command; a range built from a negative count trapped,
    /// and one from a huge count overflowed, taking the process down with it.
    private static func counted(_ command: RedisCommand, countAt position: Int, count: Int) -> [Int] {
        guard let n = Int(String(decoding: command.argument(position), as: UTF8.self)), n > 0 else { return [] }
        let first = position + 1
        return Array(first..<(n < count - first ? first + n : count))
    }
}

extension RedisCommand {
    /// True when the command's name is `upper` (given in capitals), in any case, compared as bytes: no string made.
    func isNamed(_ upper: StaticString) -> Bool {
        guard let length = lengths.first, length == upper.utf8CodeUnitCount else { return false }
        return upper.withUTF8Buffer { expected in
            for index in 0..<length {
                var byte = buffer[index]
                if byte >= 0x61 && byte <= 0x7A { byte -= 0x20 }
                if byte != expected[index] { return false }
            }
            return true
        }
    }

    /// The bytes of argument `index` (the name is 0).
    func argument(_ index: Int) -> ArraySlice<UInt8> {
        var offset = 0
        for length in lengths[..<index] { offset += length }
        return buffer[offset..<offset + lengths[index]]
    }
}
