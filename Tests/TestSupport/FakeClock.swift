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
    /// An offset ahead, in libfaketime's form: `preferred` seconds, or less on a machine up for less time than that,
    /// never below `atLeast` (waiting, if it must, until the machine has been up long enough).
    ///
    /// libfaketime moves the absolute deadline of a monotonic `timerfd_settime` back by the offset even with
    /// `FAKETIME_DONT_FAKE_MONOTONIC`: an offset beyond the machine's uptime makes that deadline negative, the call
    /// fails (EINVAL), and the Swift runtime's timer never fires, so the process sleeps for good (a fresh VM, up for
    /// less than two hours, stopped the scheduler after its first tick). Below the uptime such timers only fire early,
    /// which the processes under test tolerate (they read the time again when they wake).
    public static func aheadOffset(preferred: Int, atLeast: Int) async throws -> String {
        func uptime() -> Int {
            let text = (try? String(contentsOfFile: "/proc/uptime", encoding: .utf8)) ?? ""
            return Int(Double(text.split(separator: " ").first ?? "") ?? 0)
        }
        let margin = 60
        if uptime() - margin < atLeast { try await Task.sleep(for: .seconds(atLeast + margin - uptime())) }
        return "+\(max(atLeast, min(preferred, uptime() - margin)))s"
    }

    public static func environment(offset: String) -> [String: String] {
        removeStaleSharedMemory()
        return [
            "LD_PRELOAD": library, "FAKETIME": offset, "FAKETIME_DONT_FAKE_MONOTONIC": "1", "FAKETIME_NO_CACHE": "1",
            "FAKETIME_SHARED": "/hoopoe-none /hoopoe-none",
        ]
    }

    /// Removes the semaphores and shared memory (`/dev/shm/sem.faketime_sem_<pid>`, `faketime_shm_<pid>`) that
    /// libfaketime made for processes no longer alive. Each preloaded child makes its own pair, named by its pid, and
    /// one killed (as the tests kill them) leaves it behind; a later child given the same pid found the pair there and
    /// exited at start (`sem_open failed and recreation attempts failed`): with hundreds left, about one start in a
    /// hundred, and a scheduler test failed so.
    static func removeStaleSharedMemory() {
        let folder = "/dev/shm"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names {
            guard let prefix = ["sem.faketime_sem_", "faketime_shm_"].first(where: { name.hasPrefix($0) }),
                  let pid = Int(name.dropFirst(prefix.count)), !FileManager.default.fileExists(atPath: "/proc/\(pid)") else { continue }
            try? FileManager.default.removeItem(atPath: "\(folder)/\(name)")
        }
    }
}
