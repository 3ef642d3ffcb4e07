import Foundation
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// A rolling upgrade across decision 0033: workers of the release before it (their acknowledge script, verbatim from
/// 1f1dbd1 below, with their key layout: the sorted set `history`, the counters' totals) settle on the same Redis as
/// this release's. Neither fails (no key changed type), every finished job is listed, counted and found, and the
/// totals count each job once.
@Suite struct HistoryUpgradeTests {
    /// The acknowledge script of the release before decision 0033 (KEYS[4] the sorted set `history`, KEYS[5]
    /// `history:jobs`; ARGV as today's).
    static let olderAcknowledge = RedisScript(name: "acknowledge-1f1dbd1", source: #"""
-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+Settle.swift.
local n = tonumber(ARGV[2])
local u = tonumber(ARGV[3])
local a = tonumber(ARGV[4])
local h = tonumber(ARGV[8])
local pos = 12
if n > 0 then
  local ids = {unpack(ARGV, pos, pos + n - 1)}
  redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
  redis.call('XDEL', KEYS[1], unpack(ids))
end
pos = pos + n
for i = 6, 5 + u do
  if redis.call('GET', KEYS[i]) == ARGV[pos] then redis.call('DEL', KEYS[i]) end
  pos = pos + 1
end
for i = 6 + u, 5 + u + a do
  redis.call('LPUSH', KEYS[i], ARGV[pos])
  redis.call('EXPIRE', KEYS[i], ARGV[5])
  pos = pos + 1
end
local records = pos
pos = pos + 2 * h
-- Counters: per type for the day, the totals for the day and the hour, the minute's. A key's TTL is set when the
-- total's field is new (the key is new then too), not on every call.
local field = ARGV[pos]
pos = pos + 1
local total = 0
while pos < #ARGV do
  redis.call('HINCRBY', KEYS[2], field .. ':' .. ARGV[pos], ARGV[pos + 1])
  total = total + tonumber(ARGV[pos + 1])
  pos = pos + 2
end
local newMinute = false
if total > 0 then
  if redis.call('HINCRBY', KEYS[2], field, total) == total then redis.call('EXPIRE', KEYS[2], 7776000) end
  if redis.call('HINCRBY', KEYS[3], field, total) == total then redis.call('EXPIRE', KEYS[3], ARGV[7]) end
  newMinute = redis.call('HINCRBY', KEYS[3], ARGV[6] .. ':' .. field, total) == total
end
-- Job history (decision 0028): all the batch's records in one ZADD and one HSET. The count trim runs only once the
-- history is over its cap by more than 1 % (down to the cap, at most 1000 a call), the age trim with it or at the
-- first settle of a minute: each trim's fixed cost is paid once per many jobs instead of once per batch.
if h > 0 then
  local now = ARGV[11]
  local scored, kept = {}, {}
  for i = 0, h - 1 do
    local id = ARGV[records + 2 * i]
    scored[2 * i + 1] = now
    scored[2 * i + 2] = id
    kept[2 * i + 1] = id
    kept[2 * i + 2] = ARGV[records + 2 * i + 1]
  end
  redis.call('ZADD', KEYS[4], unpack(scored))
  redis.call('HSET', KEYS[5], unpack(kept))
  local cap = tonumber(ARGV[9])
  local size = redis.call('ZCARD', KEYS[4])
  local over = size > cap + math.floor(cap / 100)
  if over or newMinute then
    local old = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', tonumber(now) - tonumber(ARGV[10]), 'LIMIT', 0, 1000)
    if #old > 0 then
      redis.call('HDEL', KEYS[5], unpack(old))
      redis.call('ZREM', KEYS[4], unpack(old))
      size = size - #old
    end
  end
  if over then
    local extra = math.min(size - cap, 1000)
    if extra > 0 then
      redis.call('HDEL', KEYS[5], unpack(redis.call('ZRANGE', KEYS[4], 0, extra - 1)))
      redis.call('ZREMRANGEBYRANK', KEYS[4], 0, extra - 1)
    end
  end
end
return n
"""#)

    private func acks(_ ids: [String], at time: Double) -> [Acknowledgement] {
        let limits = JobStore.HistoryLimits(maxJobs: 100, maxAgeSeconds: 3600)
        return ids.enumerated().map { index, id in
            let record = HistoryRecord(id: id, type: "t", queue: "default", outcome: .processed, attempt: 1, finishedAt: time + Double(index) / 1000)
            return Acknowledgement(
                queue: "default", entryID: "\(index + 1)-0", type: "t", jobID: id, uniqueKey: nil, counter: "processed",
                history: (record.encoded(), limits))
        }
    }

    /// The older script's keys: the stream, the day's and the hour's counters, the sorted set, the records.
    private static func olderKeys(_ k: QueueKeys, at date: Date) -> [String] {
        let time = QueueKeys.counterTime(date)
        return [k.stream, k.stats(day: time.day), k.stats(hour: time.hour), k.legacyHistory, k.historyJobs]
    }

    /// The older script's arguments for `batch` (no unique locks, no answers, one type): group, n, u, a, answer TTL,
    /// the minute, the hour's TTL, h, the caps, now; the entry ids; the (id, record) pairs; the counter, type, count.
    private static func olderArguments(_ batch: [Acknowledgement], at date: Date) -> [String] {
        let limits = batch[0].history?.limits ?? JobStore.HistoryLimits(maxJobs: 0, maxAgeSeconds: 0)
        var arguments = [
            QueueKeys.group, String(batch.count), "0", "0", String(QueueKeys.answerTTLSeconds), QueueKeys.counterTime(date).minute,
            String(QueueKeys.hourStatsTTLSeconds), String(batch.count), String(limits.maxJobs), String(limits.maxAgeSeconds),
            HistoryRecord.number(date.timeIntervalSince1970),
        ]
        arguments += batch.map(\.entryID)
        for ack in batch { arguments += [ack.jobID, ack.history.map { String(decoding: $0.record, as: UTF8.self) } ?? ""] }
        return arguments + ["processed", batch[0].type, String(batch.count)]
    }

    @Test func anOlderWorkersSettlesBesideThisReleasesAreListedCountedAndNeverFail() async throws {
        let space = try TestNamespace()
        let store = space.jobs.store
        let k = store.keys("default")
        let now = Date().timeIntervalSince1970
        // Interleaved in time: older, newer, older, newer.
        for (index, ids) in [["o-1", "o-2"], ["n-1", "n-2"], ["o-3"], ["n-3"]].enumerated() {
            let at = now - 40 + Double(index) * 10
            let batch = acks(ids, at: at)
            let date = Date(timeIntervalSince1970: at)
            if ids[0].hasPrefix("o") {
                let reply = try await space.redis.run(Self.olderAcknowledge, keys: Self.olderKeys(k, at: date), arguments: Self.olderArguments(batch, at: date))
                #expect(reply.errorMessage == nil, "\(reply)")
            } else {
                if let upkeep = try await store.acknowledge(batch, queue: "default", counter: "processed", at: date) {
                    try await store.keepHistory(upkeep)
                }
            }
        }
        #expect(try await space.redis.send("TYPE", k.legacyHistory).string == "zset")
        #expect(try await space.redis.send("TYPE", k.historyIDs).string == "list")
        #expect(try await store.historyCount(queue: "default") == 6)
        let listed = try await store.historyRecords(queue: "default", offset: 0, limit: 10).map(\.id)
        #expect(listed == ["n-3", "o-3", "n-2", "n-1", "o-2", "o-1"], "\(listed)")
        for id in ["o-1", "n-1"] { #expect(try await store.historyRecord(id: id, queue: "default")?.outcome == .processed) }
        // The older script wrote the totals too; the readers sum the per-type fields both wrote: 6, not 9.
        let counters = try await space.jobs.counters(queue: "default")
        #expect(counters["processed"] == 6 && counters["processed:t"] == 6, "\(counters)")
    }
}
