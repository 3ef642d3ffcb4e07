extension ProcessRecord {
    /// Whether this is a worker serving `queue`, by the `queues` its heartbeat lists. A worker heartbeat without
    /// the field (an older version) may serve any queue, so it counts. The one rule for every reader: the deployment
    /// check's "no worker serves" warning, `hoopoe enqueue`'s, the retention round's unserved queues and the
    /// dashboard's "Served by", so all of them mean the same thing.
    public func serves(_ queue: String) -> Bool {
        guard kind == "worker" else { return false }
        guard let queues = fields["queues"] else { return true }
        return queues.split(separator: ",").contains { $0 == queue }
    }
}
