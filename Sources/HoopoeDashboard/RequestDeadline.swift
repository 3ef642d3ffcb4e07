import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request has not arrived whole (head, body, end) within `limit` of the connection being
/// ready for it: opened, or done with its last response.
///
/// Why: the server's idle timeout restarts at every byte read, so a client that sends a request's body a byte every
/// 20 s held its connection for ever — past the guard too, which answers 401 or 403 without reading the body, after
/// which the rest of the body is read and dropped. 256 of them filled the connection cap, and the operators' browsers
/// waited. This is a whole-request deadline, not an idle one: a slow sender is cut off however steadily it sends.
/// The time a handler takes to answer is not counted (the deadline stops at the request's end and starts again at
/// the response's). Public: the worker's `/metrics` endpoint (`hoopoe worker --metrics-port`) has the same exposure and
/// uses it too.
public final class RequestDeadline: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPRequestPart
    public typealias InboundOut = HTTPRequestPart
    public typealias OutboundIn = HTTPResponsePart
    public typealias OutboundOut = HTTPResponsePart

    /// How long a whole request may take to arrive.
    public let limit: TimeAmount
    private var timer: Scheduled<Void>?
    /// Requests whose head has come and whose end has not.
    private var reading = 0
    /// Requests whose head has come and whose response has not ended.
    private var answering = 0

    public init(limit: TimeAmount) {
        self.limit = limit
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            reading += 1
            answering += 1
        case .end:
            reading -= 1
            // Whole: its handler's time is not counted, unless its response went out already (the guard refused it
            // before its body came), when the connection now waits for the next request, whose time starts here.
            // Disarmed then, the next request had no deadline at all (a review found it).
            if reading == 0 { if answering == 0 { arm(context) } else { disarm() } }
        case .body: break
        }
        context.fireChannelRead(data)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // A response is done: the next request's time starts, or the rest of one still arriving (a body the guard
        // refused unread). Not while a later request, arrived whole (pipelined), is being answered: its handler's time
        // is not counted.
        if case .end = unwrapOutboundIn(data) {
            answering = max(0, answering - 1)
            if reading > 0 || answering == 0 { arm(context) }
        }
        context.write(data, promise: promise)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    private func arm(_ context: ChannelHandlerContext) {
        timer?.cancel()
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: limit) { channel.close(promise: nil) }
    }

    private func disarm() {
        timer?.cancel()
        timer = nil
    }
}
