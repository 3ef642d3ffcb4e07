#if canImport(Glibc)
import Glibc
#endif

/// Names the calling thread for `top -H`, `ps -L` and debuggers.
///
/// Foundation's `Thread.name` does not reach the kernel on Linux: every thread kept the name of the thread that made
/// it (a worker's Redis threads read `oot.default-qos`, the pool's own name), so a profile could not tell a
/// connection's thread from the pool's. Called first thing on the thread itself.
public enum ThreadName {
    /// Sets the calling thread's name: its first 15 bytes, all Linux keeps. Written to `/proc/thread-self/comm`
    /// (Glibc's Swift module has neither `pthread_setname_np` nor a usable `prctl`); a failure only leaves the name.
    public static func set(_ name: String) {
        let file = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard file >= 0 else { return }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(file, $0.baseAddress, $0.count) }
        close(file)
    }

    /// The calling thread's name, as the kernel has it.
    public static var current: String {
        let file = open("/proc/thread-self/comm", O_RDONLY | O_CLOEXEC)
        guard file >= 0 else { return "" }
        defer { close(file) }
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = bytes.withUnsafeMutableBytes { read(file, $0.baseAddress, $0.count) }
        guard count > 0 else { return "" }
        return String(decoding: bytes[0..<count].prefix { $0 != 10 }, as: UTF8.self)
    }
}
