import HoopoeJSON
import Providers

/// Something a test tells a fake to do on the next call to an endpoint, instead of (or around) its normal answer.
public enum FakeFault: Sendable, Hashable {
    /// Answer with this reply without touching the fake's state.
    case reply(FakeReply)
    /// Wait, then handle the request normally (latency; longer than the client's timeout = a timeout).
    case delay(Duration)
    /// Handle the request normally — state changes happen (a child is created, credits are added, an SMS is
    /// recorded) — then wait before answering: "it worked but the client timed out".
    case succeedThenDelay(Duration)
    /// Handle the request normally (state changes happen), then close the connection without an answer: the client
    /// sees a reset, and the outcome of its call is unknown.
    case succeedThenDrop
    /// Handle the request normally (state changes happen), send the answer's status and headers at once, then its
    /// body one byte at a time with this pause after each: a provider whose answer trickles in. The head arriving in
    /// time does not end a call; only the client's own deadline does. Stops when the client hangs up.
    case slowBody(Duration)
    /// Handle the request normally (state changes happen), then answer with its status and headers and a body of
    /// `bytes` bytes: the normal body, then spaces (still valid JSON), sent in chunks without a `Content-Length`, so
    /// only a client that counts what it reads stops it.
    case oversizedBody(bytes: Int)

    /// A Kavenegar error envelope as the service writes it; the code is mirrored into the HTTP status, the message is
    /// Table 1's unless given.
    public static func kavenegar(code: Int, message: String? = nil) -> FakeFault {
        .reply(FakeKavenegarState.errorReply(code: code, message: message))
    }

    /// An IPPanel error envelope (`meta.status == false`).
    public static func ippanel(httpStatus: Int, messageCode: String, message: String = "خطا", errors: [String: [String]]? = nil)
        -> FakeFault
    {
        .reply(FakeIPPanelState.errorReply(httpStatus: httpStatus, messageCode: messageCode, message: message, errors: errors))
    }

    /// A Brevo `{code, message}` error, with optional extra headers (e.g. `x-sib-ratelimit-reset`).
    public static func brevo(httpStatus: Int, code: String, message: String = "error", headers: [FakeHeader] = [])
        -> FakeFault
    {
        .reply(.json(httpStatus, ["code": .string(code), "message": .string(message)], headers: headers))
    }
}
