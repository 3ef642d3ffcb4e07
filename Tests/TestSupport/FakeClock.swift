import Foundation

/// libfaketime, preloaded into one child process: its wall clock moved by an offset, its monotonic clock true. For
/// the tests of processes whose host clock is wrong (a worker's `run_at`, a scheduler's ticks: Redis's clock decides).
public enum FakeClock {
    /// The library, installed by scripts/install-deps.sh (Debian's `libfaketime`).
    public static let library = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

    /// The environment that starts a child process with its wall clock `offset` away (libfaketime's form: `+60s`,
    /// `+365d`). `FAKETIME_SHARED` names a semaphore and shared memory that do not exist, which libfaketime tolerates:
    /// without it, its start-up makes its own and `setenv`s their names, and the Swift runtime then saw no arguments
    /// (hoopoe printed its top-level help). The `faketime` wrapper sets it too, but forks, so a signal to it would not
    /// reach the process.
    public static func environment(offset: String) -> [String: String] {
        [
            "LD_PRELOAD": library, "FAKETIME": offset, "FAKETIME_DONT_FAKE_MONOTONIC": "1", "FAKETIME_NO_CACHE": "1",
            "FAKETIME_SHARED": "/hoopoe-none /hoopoe-none",
        ]
    }
}
