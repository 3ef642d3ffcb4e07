import Foundation
import Synchronization

/// A time zone named at start-up and looked up on first use.
///
/// On Linux, `TimeZone(identifier:)` opens ICU's zone and locale data: about 1 MiB of an idle worker's resident
/// memory (measured in session 6: `lib_FoundationICU` 3.6 → 2.7 MiB, `VmRSS` 40.3 → 39.3 MiB; what ICU keeps is
/// the dynamic linker's relocation of the library), which a worker that runs no calendar job never needs. A zone the operator names in `HOOPOE_TIME_ZONE` is still checked at start-up (a bad name stops it
/// with exit 78); only the default waits.
public final class DeferredTimeZone: Sendable {
    private let resolve: @Sendable () -> TimeZone
    private let resolved = Mutex<TimeZone?>(nil)

    /// A zone built by `resolve` the first time ``zone`` is read.
    public init(resolving resolve: @escaping @Sendable () -> TimeZone) { self.resolve = resolve }

    /// A zone already built.
    public convenience init(_ zone: TimeZone) {
        self.init(resolving: { zone })
    }

    /// Asia/Tehran, looked up on first use (``LocalCalendar/tehranZone``).
    public static let tehran = DeferredTimeZone(resolving: { LocalCalendar.tehranZone })

    /// The zone.
    public var zone: TimeZone {
        resolved.withLock { resolved in
            if let resolved { return resolved }
            let zone = resolve()
            resolved = zone
            return zone
        }
    }
}
