/// Something the worker does on its own schedule beside fetching: recovery (``JobRecovery``), promotion
/// (``JobPromotion``), lease renewal (``LeaseRenewal``). ``Worker/run()`` repeats each from start until shutdown
/// begins; a round that fails is logged and tried again next time.
protocol BackgroundStep: Sendable {
    /// The time between two rounds.
    var interval: Duration { get }
    /// How much each wait varies, as a fraction of ``interval`` (0.2: ± 20 %), so that many workers' rounds spread
    /// out instead of arriving at Redis together.
    var jitter: Double { get }
    /// One round.
    func round() async throws
}
