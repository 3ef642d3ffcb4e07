import Hummingbird
import NIOCore

/// The fakes' request context: Hummingbird's basic one plus the connection, so a fault can drop it mid-answer and the
/// control API can refuse a caller that is not on this machine.
struct FakeRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// True when the peer is a loopback address (127.0.0.0/8 or ::1).
    var peerIsLoopback: Bool {
        switch channel.remoteAddress {
        case .v4(let address)?: address.host.hasPrefix("127.")
        case .v6(let address)?: address.host == "::1" || address.host.hasPrefix("::ffff:127.")
        default: false
        }
    }
}
