import HoopoeCore

/// A fragment of HTML that is safe to send: the only way text reaches a page.
///
/// Why a type and not a template library: a job's payload, error text, queue and type names come from Redis, and a
/// payload is written by whoever can enqueue — attacker-controlled. With `HTML`, every `String` interpolated into a
/// fragment is escaped (``escape(_:)``, the one place escaping is done); only another `HTML` value is inserted as
/// it is. Forgetting to escape is then a type error, not a review finding (decision 0027).
///
/// ```swift
/// let cell: HTML = "<td>\(envelope.type)</td>"   // the type is escaped
/// let row: HTML = "<tr>\(cell)</tr>"             // the cell is already HTML
/// ```
public struct HTML: Sendable, Equatable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The markup.
    public private(set) var markup: String

    /// Literal markup, written in the source: trusted.
    public init(stringLiteral value: String) { markup = value }

    public init(stringInterpolation: Interpolation) { markup = stringInterpolation.markup }

    private init(trusted markup: String) { self.markup = markup }

    /// Text shown as text: every character that could open a tag, an entity or end an attribute is escaped.
    public init(text: String) { markup = Self.escape(text) }

    public var description: String { markup }

    /// Nothing.
    public static let empty: HTML = ""

    /// Fragments one after another.
    public static func joined(_ parts: some Sequence<HTML>, separator: HTML = .empty) -> HTML {
        HTML(trusted: parts.map(\.markup).joined(separator: separator.markup))
    }

    /// `text` with `&`, `<`, `>`, `"` and `'` replaced by entities: safe inside an element and inside a quoted
    /// attribute value. The bidirectional embeddings, overrides and isolates (``PrintableText/isBidiControl(_:)``) are
    /// written as visible escapes (`\u{202E}`), as the CLI writes them: sent as they were, a type holding U+202E
    /// reordered the rest of its table cell, the job page's title and a notice, so a page could show one name and mean
    /// another.
    public static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            case _ where PrintableText.isBidiControl(scalar): result += PrintableText.escaped(scalar)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Builds a fragment: literal segments as they are, interpolated strings escaped, interpolated `HTML` as it is.
    public struct Interpolation: StringInterpolationProtocol {
        var markup = ""

        public init(literalCapacity: Int, interpolationCount: Int) { markup.reserveCapacity(literalCapacity * 2) }

        public mutating func appendLiteral(_ literal: String) { markup += literal }
        /// Text: escaped.
        public mutating func appendInterpolation(_ text: String) { markup += HTML.escape(text) }
        /// A number: its decimal text.
        public mutating func appendInterpolation(_ number: Int) { markup += String(number) }
        /// Markup already built.
        public mutating func appendInterpolation(_ html: HTML) { markup += html.markup }
        /// Fragments one after another.
        public mutating func appendInterpolation(_ parts: [HTML]) { markup += parts.map(\.markup).joined() }
    }
}
