import Redis

extension RedisReply {
    /// An `HGETALL` reply as a dictionary (empty when the key does not exist). One reader for every hash the jobs
    /// keep (ledger, gifts, subscriptions, email records), so none walks the flat name/value array on its own.
    var hashFields: [String: String] {
        let items = array ?? []
        var fields: [String: String] = [:]
        var index = 0
        while index + 1 < items.count {
            if let name = items[index].string { fields[name] = items[index + 1].string ?? "" }
            index += 2
        }
        return fields
    }
}
