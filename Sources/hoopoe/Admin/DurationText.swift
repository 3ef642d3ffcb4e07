import enum Redis.DecimalNumber

/// Durations typed on the command line: `500ms`, `30s`, `10m`, `2h`, `1d`, or plain seconds (`1.5`); and the flags of
/// plain seconds (`--lease 10`, ``seconds(_:)``).
///
/// Every number in them is decimal (``DecimalNumber``, as the duration settings are): `Double(_:)` took much more, and
/// `hoopoe worker --lease 0x10` ran with 16 s leases, `health-check --timeout 0x10s` waited 16 s, `enqueue --in 1e3s`
/// was 1000 s. Written here once for every flag of every command, so no flag reads a number its own way (the flags of
/// whole numbers, `--concurrency` or `--port`, are `Int`s, which take no hexadecimal, exponent or fraction).
enum DurationText {
    /// The longest duration accepted: ten years. Beyond that a typo, not a wish; and milliseconds past `Int64`
    /// would trap converting.
    static let maxSeconds: Double = 10 * 365 * 86_400

    /// The duration, or nil when `text` is not one (or is negative, or longer than ``maxSeconds``).
    static func parse(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        var seconds: Double?
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            if let value = DecimalNumber.parse(text.dropLast(suffix.count)) { seconds = value * scale }
            break
        }
        if seconds == nil, let value = DecimalNumber.parse(text) { seconds = value }
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

    /// The value of a flag of plain seconds, for `@Option(transform: DurationText.seconds)`: decimal digits with an
    /// optional fraction (`10`, `2.5`). Thrown from the transform, the error is a usage error (exit 64, as every flag
    /// that does not parse) naming the flag: `The value '0x10' is invalid for '--lease <lease>': …`. The flag's range
    /// is its command's `validate()`'s.
    /// - Throws: ``DurationTextError`` for anything else (a sign, an exponent, hexadecimal, `inf`, `nan`, spaces).
    static func seconds(_ text: String) throws -> Double {
        guard let seconds = DecimalNumber.parse(text) else {
            throw DurationTextError(message: "seconds are written in decimal digits, like 10 or 2.5 (no sign, exponent or hexadecimal)")
        }
        return seconds
    }
}

/// A duration option that does not parse.
struct DurationTextError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
