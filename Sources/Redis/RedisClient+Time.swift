extension RedisClient {
    /// Redis's clock (`TIME`), Unix seconds with microseconds: the one clock every process of a deployment shares, which
    /// the scheduler plans by (decision 0083), the domain jobs decide by (decision 0004) and a queue's pause is dated by.
    /// - Throws: ``RedisError``: the transport's, or `protocolError` for a reply that is not two numbers.
    public func serverTime() async throws -> Double {
        try Self.seconds(ofTime: try await send("TIME"), endpoint: endpointName)
    }

    /// The seconds in a `TIME` reply (`[seconds, microseconds]`), for a `TIME` sent in a pipeline.
    /// - Throws: ``RedisError`` `protocolError` naming `endpoint` for a reply that is not two numbers.
    public static func seconds(ofTime reply: RedisReply, endpoint: String) throws(RedisError) -> Double {
        guard let parts = reply.array, parts.count == 2, let seconds = parts[0].string.flatMap(Double.init),
            let micros = parts[1].string.flatMap(Double.init)
        else { throw RedisError(.protocolError, endpoint: endpoint, command: "TIME", message: "Redis's TIME reply is not two numbers") }
        return seconds + micros / 1e6
    }
}
