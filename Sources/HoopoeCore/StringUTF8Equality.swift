#if canImport(Glibc)
import Glibc
#endif

extension String {
    /// Whether the string's UTF-8 is exactly `bytes`: one `memcmp` for a native string. The worker's JSON readers compare
    /// a name they hold with bytes they read (`EnvelopeScan`'s queue, `PlainPayloadDecoder`'s keys), once or more a job;
    /// `utf8.elementsEqual` walked `String.UTF8View` a byte at a time through its index (~430 instructions a job for the
    /// queue's name, callgrind, session 27).
    @inline(__always)
    func utf8Equals(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        utf8.withContiguousStorageIfAvailable { own in
            own.count == bytes.count && (own.count == 0 || memcmp(own.baseAddress!, bytes.baseAddress!, own.count) == 0)
        } ?? utf8.elementsEqual(bytes)
    }
}
