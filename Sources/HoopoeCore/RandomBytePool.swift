#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Random bytes for job ids, read from the kernel 4 KiB at a time.
///
/// Why a pool: `SystemRandomNumberGenerator` makes one `getrandom` call per 8 bytes; one call per character of an id
/// was 45 % of a batch enqueue's client CPU, and two calls an id still about 20 %. One call per 256 ids makes it
/// vanish. The bytes are the kernel's CSPRNG output either way, and each is handed out once.
///
/// After a `fork` without `exec` a child would hand out the parent's remaining bytes again; nothing in Hoopoe forks
/// without exec (child processes are spawned), so no fork handler is installed.
enum RandomBytePool {
    private static let size = 4096
    private static let state = Mutex(Pool())

    private struct Pool {
        var bytes = [UInt8](repeating: 0, count: RandomBytePool.size)
        var used = RandomBytePool.size
    }

    /// Fills `target` with fresh random bytes (at most the pool's size at once).
    static func fill(_ target: UnsafeMutableRawBufferPointer) {
        precondition(target.count <= size)
        state.withLock { pool in
            let start = pool.used + target.count > size ? 0 : pool.used
            pool.bytes.withUnsafeMutableBytes { bytes in
                if start == 0 { refill(bytes) }
                target.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[start..<start + target.count]))
            }
            pool.used = start + target.count
        }
    }

    /// glibc's `arc4random_buf`: the kernel's `getrandom` for the whole buffer in one call (glibc 2.36+), falling back
    /// to `/dev/urandom` itself.
    private static func refill(_ bytes: UnsafeMutableRawBufferPointer) {
        arc4random_buf(bytes.baseAddress!, bytes.count)
    }
}
