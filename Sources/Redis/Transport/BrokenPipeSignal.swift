import Glibc

/// A write to a socket the server closed raises SIGPIPE, which would end the process. Blocked on the thread that
/// writes, the write fails with EPIPE instead: plain writes pass MSG_NOSIGNAL, but OpenSSL's writes (and a TLS
/// session's close_notify on shutdown) cannot. Every thread that writes to a Redis or sentinel socket blocks it: the
/// connections' threads, the Sentinel watcher's, and the one `sentinelView()` asks on (a TLS sentinel at `maxclients`
/// that answered and closed once ended the process there).
enum BrokenPipeSignal {
    /// Blocks SIGPIPE on the calling thread.
    static func blockOnThisThread() {
        var pipe = sigset_t()
        sigemptyset(&pipe)
        sigaddset(&pipe, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipe, nil)
    }
}
