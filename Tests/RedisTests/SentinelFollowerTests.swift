import Testing

@testable import Redis

/// Which sentinel's answer the client follows (no servers: the rules alone; SentinelFailoverTests runs them against
/// real sentinels). After a failover the sentinels learn of it one by one, so for a while some still name the old
/// primary; the config epoch tells the newer answer.
@Suite("Sentinel answers")
struct SentinelFollowerTests {
    private typealias Answer = SentinelResolver.Answer
    private let old = RedisConfiguration.Endpoint.tcp(host: "10.0.0.1", port: 6379)
    private let new = RedisConfiguration.Endpoint.tcp(host: "10.0.0.2", port: 6379)

    @Test func theHighestEpochWinsWhateverTheOrder() {
        let lagging = Answer(primary: old, epoch: 3)
        let leader = Answer(primary: new, epoch: 4)
        #expect(SentinelResolver.newest([lagging, lagging, leader]) == 2)
        #expect(SentinelResolver.newest([leader, lagging]) == 0)
        // Equals: the first asked (the one that won last time).
        #expect(SentinelResolver.newest([Answer(primary: old, epoch: 4), leader]) == 0)
        // A sentinel that would not say its epoch ranks below any that did.
        #expect(SentinelResolver.newest([Answer(primary: old, epoch: nil), Answer(primary: new, epoch: 0)]) == 1)
        #expect(SentinelResolver.newest([Answer(primary: old, epoch: nil)]) == 0)
        #expect(SentinelResolver.newest([]) == nil)
    }

    @Test func theEpochIsReadFromSentinelMaster() {
        let reply = RedisReply.array(["name", "hoopoe-primary", "ip", "10.0.0.1", "config-epoch", "7", "flags", "master"].map { .bulk(Array($0.utf8)) })
        #expect(SentinelResolver.epoch(reply) == 7)
        #expect(SentinelResolver.epoch(.error("NOPERM this user has no permissions to run the 'sentinel|master' command")) == nil)
        #expect(SentinelResolver.epoch(.array([.bulk(Array("name".utf8)), .bulk(Array("x".utf8))])) == nil)
    }

    /// The failure this guards (issue 13): the old primary, restarted after a `kill -9`, says `master`, and a sentinel
    /// that has not learned of the failover still names it. Followed once, the newer primary is not given up for it.
    @Test func anOlderConfigurationNamingTheOldPrimaryIsIgnored() {
        let followed = Answer(primary: new, epoch: 4)
        #expect(SentinelFollower.step(known: followed, answer: Answer(primary: old, epoch: 3)) == .ignore)
        #expect(SentinelFollower.step(known: followed, answer: Answer(primary: old, epoch: nil)) == .ignore)
        #expect(SentinelFollower.step(known: followed, answer: Answer(primary: new, epoch: 3)) == .stay)
    }

    @Test func aNewerOrEquallyNewConfigurationIsAMove() {
        let followed = Answer(primary: old, epoch: 3)
        #expect(SentinelFollower.step(known: followed, answer: Answer(primary: new, epoch: 4)) == .move(from: old))
        // Failing back to a former primary is a move like any other, with a newer epoch.
        #expect(SentinelFollower.step(known: Answer(primary: new, epoch: 4), answer: Answer(primary: old, epoch: 5)) == .move(from: new))
        // Sentinels that keep no epochs (or refuse to say): the answer is followed, as without this rule.
        #expect(SentinelFollower.step(known: Answer(primary: old, epoch: nil), answer: Answer(primary: new, epoch: nil)) == .move(from: old))
        #expect(SentinelFollower.step(known: nil, answer: Answer(primary: new, epoch: 0)) == .stay)
    }

    /// Sentinels rebuilt from scratch start again at epoch 0: when every one of them agrees, that is the truth.
    @Test func anOlderEpochEverySentinelAgreesOnIsFollowed() {
        var rebuilt = Answer(primary: new, epoch: 0)
        rebuilt.unanimous = true
        #expect(SentinelFollower.step(known: Answer(primary: old, epoch: 9), answer: rebuilt) == .move(from: old))
    }
}
