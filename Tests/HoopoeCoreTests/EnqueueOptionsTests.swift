import Foundation
import Testing

@testable import HoopoeCore

/// The option edges of `jobs/PROTOCOL.md` ("Enqueue options") that `EnqueueOptions.problem(now:)` answers: a value
/// that would change when or whether the job runs is refused naming the option, as the clients name it, where it was
/// clamped or defaulted before (`jobs/conformance/enqueue.json` runs the same edges through `JobQueue` and the clients).
@Suite struct EnqueueOptionsTests {
    let now = 1_795_400_000.0

    private func date(_ offset: Double) -> Date { Date(timeIntervalSince1970: now + offset) }

    @Test func aValueThatCannotMeanWhatWasAskedIsRefusedNamingTheOption() {
        let refused: [(String, EnqueueOptions, String)] = [
            ("a run time before 1970", EnqueueOptions(runAt: Date(timeIntervalSince1970: -60)), "run_at must be Unix seconds >= 0"),
            ("a run time of NaN", EnqueueOptions(runAt: Date(timeIntervalSince1970: .nan)), "run_at must be Unix seconds >= 0"),
            ("a unique job due past the lock's 10⁹ s", EnqueueOptions(runAt: date(1e9), uniqueKey: "u"), "run_at is 1000000000 seconds ahead"),
            ("unique_for 0", EnqueueOptions(uniqueKey: "u", uniqueFor: .zero), "unique_for must be > 0 and <= 2592000 seconds (got 0)"),
            ("unique_for negative", EnqueueOptions(uniqueKey: "u", uniqueFor: .seconds(-5)), "unique_for must be > 0 and <= 2592000 seconds (got -5)"),
            ("unique_for past 30 days", EnqueueOptions(uniqueKey: "u", uniqueFor: .seconds(2_592_001)), "(got 2592001)"),
            ("unique_for past any TTL", EnqueueOptions(uniqueKey: "u", uniqueFor: .seconds(Int64.max)), "unique_for must be > 0"),
            ("unique_for without unique_key", EnqueueOptions(uniqueFor: .seconds(60)), "unique_for needs a unique_key"),
            ("once_for 0", EnqueueOptions(onceKey: "o", onceFor: .zero), "once_for must be > 0 and <= 1000000000 seconds, about 31 years (got 0)"),
            ("once_for negative", EnqueueOptions(onceKey: "o", onceFor: .seconds(-1)), "(got -1)"),
            ("once_for past 10⁹ s", EnqueueOptions(onceKey: "o", onceFor: .seconds(1_000_000_001)), "(got 1000000001)"),
            ("once_for past any TTL", EnqueueOptions(onceKey: "o", onceFor: .seconds(Int64.max)), "once_for must be > 0"),
            ("once_for without once_key", EnqueueOptions(onceFor: .seconds(60)), "once_for needs a once_key"),
        ]
        for (name, options, message) in refused {
            let problem = options.problem(now: now)
            #expect(problem?.contains(message) == true, "\(name): \(problem ?? "accepted")")
        }
        var set = EnqueueOptions(onceKey: "o")
        set.onceKey = nil
        set.onceFor = .seconds(60)
        #expect(set.problem(now: now)?.contains("once_for needs a once_key") == true, "once_for set as a property, without its key")
    }

    @Test func theLimitsThemselvesAndTheDefaultsAreAccepted() {
        let accepted: [(String, EnqueueOptions)] = [
            ("nothing given", EnqueueOptions()),
            ("a past run time: now", EnqueueOptions(runAt: date(-3600))),
            ("the epoch", EnqueueOptions(runAt: Date(timeIntervalSince1970: 0))),
            ("a plain job due in 100 years", EnqueueOptions(runAt: date(100 * 365 * 86_400))),
            ("a unique job whose lock just fits", EnqueueOptions(runAt: date(1e9 - 86_400), uniqueKey: "u")),
            ("a far unique job with a window of its own", EnqueueOptions(runAt: date(2e9), uniqueKey: "u", uniqueFor: .seconds(60))),
            ("unique_for 30 days", EnqueueOptions(uniqueKey: "u", uniqueFor: .seconds(2_592_000))),
            ("unique_for a fraction", EnqueueOptions(uniqueKey: "u", uniqueFor: .milliseconds(1))),
            ("once_for 10⁹ s", EnqueueOptions(onceKey: "o", onceFor: .seconds(1_000_000_000))),
            ("once_for a fraction", EnqueueOptions(onceKey: "o", onceFor: .milliseconds(500))),
            ("a once_key with the default once_for", EnqueueOptions(onceKey: "o")),
        ]
        for (name, options) in accepted {
            #expect(options.problem(now: now) == nil, "\(name): \(options.problem(now: now) ?? "")")
        }
        #expect(EnqueueOptions().onceFor == .seconds(7 * 86_400), "the default once_for is 7 days")
        #expect(EnqueueOptions(onceKey: "o", onceFor: .seconds(60)).onceFor == .seconds(60))
    }
}
