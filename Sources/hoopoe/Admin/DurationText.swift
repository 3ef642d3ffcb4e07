/// Durations typed on the command line: `500ms`, `30s`, `10m`, `2h`, `1d`, or plain seconds (`1.5`).
enum DurationText {
    /// The longest duration accepted: ten years. Beyond that a typo, not a wish; and milliseconds past `Int64`
    /// would trap converting.
    static let maxSeconds: Double = 10 * 365 * 86_400

    /// The duration, or nil when `text` is not one (or is negative, or longer than ``maxSeconds``).
    static func parse(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        var seconds: Double?
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            if let value = Double(text.dropLast(suffix.count)) { seconds = value * scale }
            break
        }
        if seconds == nil, let value = Double(text) { seconds = value }
        guard let seconds, seconds >= 0, seconds <= maxSeconds else { return nil }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// Parses the value of `option`, or throws the one-line error users see.
    static func parse(_ text: String, option: String, positive: Bool = true) throws -> Duration {
        guard let duration = parse(text), !positive || duration > .zero else {
            throw DurationTextError(message: "\(option) '\(text)' is not a duration like 500ms, 30s, 10m, 2h or 1d (at most 3650d)")
        }
        return duration
    }
}

/// A duration option that does not parse.
struct DurationTextError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
