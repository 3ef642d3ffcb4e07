import Foundation
import HoopoeJobs
import Synchronization
import Testing

@Suite struct DeferredTimeZoneTests {
    @Test func looksTheZoneUpOnFirstUseAndOnlyOnce() {
        let lookups = Mutex(0)
        let deferred = DeferredTimeZone(resolving: {
            lookups.withLock { $0 += 1 }
            return TimeZone(identifier: "Asia/Tehran")!
        })
        let calendar = LocalCalendar(zone: deferred)
        #expect(lookups.withLock { $0 } == 0, "building the calendar must not look the zone up")
        #expect(calendar.timeZone.identifier == "Asia/Tehran")
        _ = calendar.startOfDay(Date())
        #expect(deferred.zone.identifier == "Asia/Tehran")
        #expect(lookups.withLock { $0 } == 1)
    }

    @Test func aZoneTheOperatorNamesIsUsedAndTheDefaultIsTehran() throws {
        let named = try DomainSettings(environment: EnvironmentReader(["HOOPOE_TIME_ZONE": "Europe/Berlin"]))
        #expect(named.timeZone.identifier == "Europe/Berlin")
        var settings = try DomainSettings(environment: EnvironmentReader([:]))
        #expect(settings.zone === DeferredTimeZone.tehran)
        settings.timeZone = TimeZone(identifier: "Asia/Tokyo")!
        #expect(settings.zone.zone.identifier == "Asia/Tokyo")
    }
}
