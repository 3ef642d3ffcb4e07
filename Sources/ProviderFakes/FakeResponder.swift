import Hummingbird
import HTTPTypes
import NIOCore
import Providers

/// The Hummingbird responder behind all three fakes: records, applies a queued fault, then answers.
struct FakeResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let control: FakeProviderControl

    func respond(to request: Request, context: Context) async throws -> Response {
        let body = try await request.body.collect(upTo: 4 << 20)
        let target = request.head.path ?? "/"
        let path = String(target.split(separator: "?", maxSplits: 1).first ?? "")
        let method = request.method.rawValue
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
        }
        var headers = HTTPFields()
        for header in reply.headers {
            if let name = HTTPField.Name(header.name) { headers.append(HTTPField(name: name, value: header.value)) }
        }
        return Response(
            status: HTTPResponse.Status(code: reply.status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: reply.body)))
    }
}
