import Redis
import Testing

@testable import HoopoeCore

/// How a fetch's `XREADGROUP` reply becomes jobs, offline: the reply parsed from RESP bytes by the reader a
/// connection uses, then `JobStore.parseStreams`, both ways it runs: on the reply read in place (the fetch's way,
/// `RedisReplyView`) and on its copy (`RedisReply`, as recovery's script reply is read): the two must agree.
@Suite struct JobStoreFetchParseTests {
    private func bulk(_ text: String) -> String { "$\(text.utf8.count)\r\n\(text)\r\n" }

    private func entry(_ id: String, _ fields: [String]) -> String {
        "*2\r\n" + bulk(id) + "*\(fields.count)\r\n" + fields.map(bulk).joined()
    }

    private func parse(_ resp: String) throws -> [FetchedJob] {
        let replies = try RedisReply.parse(resp: Array(resp.utf8))
        try #require(replies.count == 1)
        let copied = JobStore.parseStreams(replies[0], deliveries: 1)
        let viewed = try RedisReplyView.parse(resp: Array(resp.utf8)) { JobStore.parseStreams($0, deliveries: 1) }
        try #require(viewed.count == 1)
        #expect(viewed[0].map(Self.fields) == copied.map(Self.fields))
        return viewed[0]
    }

    private static func fields(_ job: FetchedJob) -> [String] {
        [job.queue, job.entryID, String(decoding: job.bytes, as: UTF8.self), String(job.deliveries), String(job.promoted)]
    }

    @Test func entriesOfTwoQueues() throws {
        let resp = "*2\r\n"
            + "*2\r\n" + bulk("hoopoe:{default}:stream") + "*3\r\n"
            + entry("1764560000000-0", ["job", "{\"a\":1}"])
            + entry("1764560000000-12", ["promoted", "1", "job", "{\"b\":2}"])
            + entry("1764560000001-0", ["other", "x", "job", "[]"])
            + "*2\r\n" + bulk("hoopoe:{mail}:stream") + "*1\r\n"
            + entry("5-5", ["payload", "{}"])
        let jobs = try parse(resp)
        #expect(jobs.map(\.queue) == ["default", "default", "default", "mail"])
        #expect(jobs.map(\.entryID) == ["1764560000000-0", "1764560000000-12", "1764560000001-0", "5-5"])
        #expect(jobs.map { String(decoding: $0.bytes, as: UTF8.self) } == ["{\"a\":1}", "{\"b\":2}", "[]", "{}"])
        #expect(jobs.map(\.promoted) == [false, true, false, false])
        #expect(jobs.allSatisfy { $0.deliveries == 1 })
    }

    /// `promoted` counts only as the first of at least two fields; a field named like it elsewhere does not, nor
    /// does a name that only starts the same.
    @Test func promotedOnlyFirstWithAJobAfterIt() throws {
        let resp = "*1\r\n*2\r\n" + bulk("hoopoe:{q}:stream") + "*3\r\n"
            + entry("1-0", ["promoted", "1"])
            + entry("1-1", ["job", "{}", "promoted", "1"])
            + entry("1-2", ["promotedX", "1", "job", "{}"])
        #expect(try parse(resp).map(\.promoted) == [false, false, false])
    }

    /// What is not the expected shape is skipped, not trusted: a key without braces, an entry that is not a pair,
    /// a nil entry (an entry deleted while pending), a nil reply (the block ran out).
    @Test func malformedPartsAreSkipped() throws {
        let resp = "*2\r\n"
            + "*2\r\n" + bulk("nobraces") + "*1\r\n" + entry("1-0", ["job", "{}"])
            + "*2\r\n" + bulk("hoopoe:{q}:stream") + "*3\r\n"
            + "*2\r\n" + bulk("2-0") + "*-1\r\n"
            + "*1\r\n" + bulk("2-1")
            + entry("2-2", ["job", "{}"])
        let jobs = try parse(resp)
        #expect(jobs.map(\.entryID) == ["2-0", "2-2"])
        #expect(jobs[0].bytes.isEmpty)
        #expect(try parse("*-1\r\n").isEmpty)
    }
}
