import AsyncHTTPClient
import Foundation
import HoopoeJSON
import NIOCore
import NIOHTTP1
import Testing

/// One raw HTTP exchange with a fake, bypassing the provider clients: the fakes' strictness is tested on the wire,
/// with requests a client of ours would never build.
struct RawAnswer {
    var status: Int
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
    var json: JSONValue? { JSONValue.parse(body) }
}

func rawHTTP(
    _ http: HTTPClient, _ method: String, _ url: String, body: String? = nil, headers: [(String, String)] = []
) async throws -> RawAnswer {
    var request = HTTPClientRequest(url: url)
    request.method = HTTPMethod(rawValue: method)
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body { request.body = .bytes(ByteBuffer(string: body)) }
    let response = try await http.execute(request, timeout: .seconds(10))
    let bytes = try await response.body.collect(upTo: 4 << 20)
    return RawAnswer(status: Int(response.status.code), body: Array(buffer: bytes))
}

/// Expects an answer's HTTP status, showing the body when it differs.
func expectStatus(_ answer: RawAnswer, _ status: Int, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(answer.status == status, "\(answer.text)", sourceLocation: sourceLocation)
}
