import Glibc
import Redis
import Testing

/// The reply reader's limits against a peer that answers with only a header. A suite of the heavy phase
/// (`HEAVY_SUITES`): it reads the process's peak memory, which other suites running beside it would raise.
@Suite struct ReplyArenaLimitsTests {
    /// An array header alone, from whoever answers on the socket, claims no memory: one over the limit is refused,
    /// and one under it is not zeroed ahead of its elements. Before, `*150000000` made the reader touch 1.2 GB.
    @Test func aHugeArrayHeaderTouchesNoMemory() throws {
        func peakRSS() -> Int {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            return usage.ru_maxrss * 1024
        }
        let before = peakRSS()
        #expect(throws: RedisError.self) { try RedisReply.parse(resp: Array("*150000000\r\n".utf8)) }
        #expect(throws: RedisError.self) { try RedisReply.parse(resp: Array("*16000000\r\n:1\r\n".utf8)) }
        #expect(peakRSS() - before < 64 << 20, "peak RSS grew by \((peakRSS() - before) >> 20) MiB")
        // Under the limit, a complete array is read as before.
        #expect(try RedisReply.parse(resp: Array("*2\r\n:1\r\n:2\r\n".utf8)) == [.array([.integer(1), .integer(2)])])
    }
}
