import Foundation
import HoopoeCore
import HoopoeJSON
import Redis

/// The free-credit limiter: the 120 s cooldown and the monthly cap per user, decided in ONE Lua call so that any
/// number of concurrent requests for one user grant at most once per cooldown (`Lua/freecredit.lua` documents its keys,
/// arguments and reply; `jobs/lua/freecredit.lua` is a link to it). Every key of the area is built here.
///
/// Times are arguments, read from the domain clock, so a simulated clock (tests, simulations) moves the cooldown
/// and the month just as real time does.
public struct FreeCreditLimiter: Sendable {
    let services: DomainServices
    var settings: FreeCreditSettings { services.settings.freeCredit }

    public init(services: DomainServices) {
        self.services = services
    }

    /// How long the notification list of a request is kept (the waiter BLPOPs it soon after enqueueing).
    public static let notifyTTLSeconds = 3600

    /// The keys of one user and request, in the script's KEYS order.
    public func keys(userID: DomainIdentifier, requestID: DomainIdentifier, month: CalendarMonth) -> [String] {
        [
            services.key("{freecredit}:last:\(userID)"),
            services.key("{freecredit}:month:\(userID):\(month.label)"),
            resultKey(requestID),
            notifyKey(requestID),
        ]
    }

    /// `<ns>:{freecredit}:result:<request_id>`: the answer as JSON, for ``FreeCreditSettings/resultTTLSeconds``.
    public func resultKey(_ requestID: DomainIdentifier) -> String { services.key("{freecredit}:result:\(requestID)") }

    /// `<ns>:{freecredit}:notify:<request_id>`: a list the answer is pushed to once, for a caller's `BLPOP`.
    public func notifyKey(_ requestID: DomainIdentifier) -> String { services.key("{freecredit}:notify:\(requestID)") }

    /// Decides one request: grants it or says why not and for how long.
    ///
    /// KEYS: last grant, month count, result, notify (``keys(userID:requestID:month:)``).
    /// ARGV: now, cooldown s, monthly cap, next month start, amount, user_id, request_id, result TTL s, notify TTL s.
    /// - Parameters:
    ///   - amount: granted when allowed (the settings' default when nil).
    ///   - now: the domain time.
    /// - Returns: the answer, and whether it is the stored answer of an earlier call with this request id.
    public func request(userID: DomainIdentifier, requestID: DomainIdentifier, amount: Int?, now: Date) async throws -> (answer: FreeCreditAnswer, replayed: Bool) {
        let month = settings.monthCalendar.month(of: now, in: services.calendar)
        let reply: RedisReply
        do {
            reply = try await services.redis.run(Self.script, keys: keys(userID: userID, requestID: requestID, month: month), arguments: [
                String(format: "%.3f", now.timeIntervalSince1970), String(settings.cooldownSeconds), String(settings.monthlyCap),
                String(Int(month.end.timeIntervalSince1970)), String(amount ?? settings.defaultAmount),
                userID.value, requestID.value, String(settings.resultTTLSeconds), String(min(settings.resultTTLSeconds, Self.notifyTTLSeconds)),
            ])
        } catch let error as RedisError where error.code == .server && error.message.hasPrefix("FREECREDIT ") {
            throw FreeCreditRequestIDReused(message: String(error.message.dropFirst("FREECREDIT ".count)))
        }
        guard let parts = reply.array, parts.count == 2, let json = parts[0].bytes, let replayed = parts[1].int else {
            throw FreeCreditError("unexpected reply from the freecredit script: \(reply)")
        }
        return (try FreeCreditAnswer.decode(json), replayed == 1)
    }

    /// `Lua/freecredit.lua`, which is also `jobs/lua/freecredit.lua` (a link) for services that `EVAL` it.
    public static let script = RedisScript(name: "freecredit", embedded: PackageResources.freecredit_lua)

    // MARK: The event mark

    /// `<ns>:{freecredit}:emitted:<request_id>`: set once the request's event is on the stream, so a re-delivered
    /// job that gets the stored answer emits it only when a crash came between the decision and the event.
    func emittedKey(_ requestID: DomainIdentifier) -> String { services.key("{freecredit}:emitted:\(requestID)") }

    /// Whether the event of `requestID` was emitted.
    func wasEmitted(_ requestID: DomainIdentifier) async throws -> Bool {
        try await services.redis.send("EXISTS", emittedKey(requestID)).int == 1
    }

    /// Marks the event of `requestID` emitted, for as long as its answer is kept.
    func markEmitted(_ requestID: DomainIdentifier) async throws {
        try await services.redis.send("SET", emittedKey(requestID), "1", "EX", String(settings.resultTTLSeconds))
    }
}

/// A free-credit request that could not be decided.
public struct FreeCreditError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A `request_id` whose answer was decided for another user (freecredit.lua): the request cannot be answered.
public struct FreeCreditRequestIDReused: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
