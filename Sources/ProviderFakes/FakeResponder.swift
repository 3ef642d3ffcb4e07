import Hummingbird
import HTTPTypes
import NIOCore
import Providers

/// The Hummingbird responder behind all three fakes: records, applies a queued fault, then answers. With the control
/// API switched on, paths under ``FakeControlAPI/prefix`` program the fakes instead (loopback callers only).
struct FakeResponder: HTTPResponder {
    typealias Context = FakeRequestContext

    let control: FakeProviderControl
    let controlAPI: FakeControlAPI?

    /// Thrown after a `succeedThenDrop` fault closed the connection: there is no answer to write.
    struct ConnectionDropped: Error {}

    func respond(to request: Request, context: Context) async throws -> Response {
        let body = try await request.body.collect(upTo: 4 << 20)
        let target = request.head.path ?? "/"
        let path = String(target.split(separator: "?", maxSplits: 1).first ?? "")
        let method = request.method.rawValue
        if let controlAPI, path == FakeControlAPI.prefix || path.hasPrefix(FakeControlAPI.prefix + "/") {
            let reply = context.peerIsLoopback
                ? await controlAPI.respond(method: method, target: target, body: Array(buffer: body))
                : FakeControlAPI.problem(403, "the control API answers loopback callers only")
            return Self.response(reply)
        }
        let recorded = RecordedRequest(
            endpoint: FakeEndpoint.identify(method: method, path: path), method: method, target: target,
            headers: request.headers.map { FakeHeader($0.name.rawName, $0.value) }, body: Array(buffer: body))
        let fault = await control.record(recorded)
        let reply: FakeReply
        switch fault {
        case nil:
            reply = await control.handle(recorded)
        case .reply(let canned)?:
            reply = canned
        case .delay(let delay)?:
            try await Task.sleep(for: delay)
            reply = await control.handle(recorded)
        case .succeedThenDelay(let delay)?:
            reply = await control.handle(recorded)
            try await Task.sleep(for: delay)
        case .succeedThenDrop?:
            _ = await control.handle(recorded)
            try? await context.channel.close(mode: .all)
            throw ConnectionDropped()
        case .slowBody(let pause)?:
            return Self.slowResponse(await control.handle(recorded), pause: pause)
        case .oversizedBody(let bytes)?:
            return Self.oversizedResponse(await control.handle(recorded), bytes: bytes)
        }
        return Self.response(reply)
    }

    /// `reply` with its `Content-Length`, its body written a byte at a time, `pause` after each byte but the last. A
    /// write after the client hung up throws, which ends the answer.
    static func slowResponse(_ reply: FakeReply, pause: Duration) -> Response {
        var response = response(reply)
        let bytes = reply.body
        response.body = ResponseBody(contentLength: bytes.count) { writer in
            for (index, byte) in bytes.enumerated() {
                try await writer.write(ByteBuffer(bytes: [byte]))
                if index < bytes.count - 1 { try await Task.sleep(for: pause) }
            }
            try await writer.finish(nil)
        }
        return response
    }

    /// `reply` with a body of `bytes` bytes (its own, then spaces), written in 64 KiB chunks with no `Content-Length`.
    static func oversizedResponse(_ reply: FakeReply, bytes: Int) -> Response {
        var response = response(reply)
        let body = reply.body
        response.body = ResponseBody { writer in
            try await writer.write(ByteBuffer(bytes: body))
            var left = max(0, bytes - body.count)
            let chunk = ByteBuffer(repeating: UInt8(ascii: " "), count: 64 << 10)
            while left > 0 {
                try await writer.write(chunk.getSlice(at: 0, length: min(left, chunk.readableBytes)) ?? chunk)
                left -= min(left, chunk.readableBytes)
            }
            try await writer.finish(nil)
        }
        return response
    }

    static func response(_ reply: FakeReply) -> Response {
        var headers = HTTPFields()
        for header in reply.headers {
            if let name = HTTPField.Name(header.name) { headers.append(HTTPField(name: name, value: header.value)) }
        }
        return Response(
            status: HTTPResponse.Status(code: reply.status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: reply.body)))
    }
}
