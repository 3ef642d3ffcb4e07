import Dispatch
import Foundation

/// Signals as an `AsyncStream`, from dispatch signal sources. For what the `ServiceGroup` does not handle: it turns
/// only the first SIGTERM/SIGINT into a graceful shutdown, and swift-service-lifecycle's `UnixSignal` has no SIGTSTP.
/// A dispatch source receives a signal beside the group's own source for it (each source sees every delivery), and
/// while a source is registered the signal's default action (stopping the process, for SIGTSTP) does not happen.
///
/// - Note: `@unchecked Sendable`: `sources` is written once in `init` and only cancelled in `deinit`; dispatch sources
///   are thread-safe for that.
final class SignalStream: @unchecked Sendable {
    /// Each delivered signal's number.
    let signals: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]

    init(_ numbers: [Int32]) {
        let (signals, continuation) = AsyncStream.makeStream(of: Int32.self)
        self.signals = signals
        sources = numbers.map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
    }

    deinit {
        for source in sources { source.cancel() }
    }
}
