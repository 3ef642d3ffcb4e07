/// Why a cron expression was refused: which field, which value, and what is wrong with it.
///
/// The description is a complete sentence for an operator, e.g.
/// `invalid cron expression "0 25 * * *": hour: 25 is out of range 0–23`.
public struct CronExpressionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of mistake. A struct, so kinds can be added without breaking callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case fieldCount, emptyValue, invalidValue, outOfRange, invalidRange, invalidStep, unknownMacro, neverMatches
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// Not 5 or 6 space-separated fields.
        public static var fieldCount: Self { .init(.fieldCount) }
        /// An empty list element, as in `1,,2`.
        public static var emptyValue: Self { .init(.emptyValue) }
        /// Neither a number nor a name the field knows.
        public static var invalidValue: Self { .init(.invalidValue) }
        /// A number outside the field's range.
        public static var outOfRange: Self { .init(.outOfRange) }
        /// A range whose start is after its end, like `5-1`.
        public static var invalidRange: Self { .init(.invalidRange) }
        /// A step that is not a positive number, like `*/0`.
        public static var invalidStep: Self { .init(.invalidStep) }
        /// An `@` macro other than @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly.
        public static var unknownMacro: Self { .init(.unknownMacro) }
        /// Valid fields that no date satisfies, like `0 0 30 2 *` (February 30th).
        public static var neverMatches: Self { .init(.neverMatches) }

        public var description: String { base.rawValue }
    }

    /// The kind of mistake.
    public let code: Code
    /// The whole expression as written.
    public let expression: String
    /// The field at fault; nil when the expression as a whole is wrong (field count, macro).
    public let field: CronField?
    /// The offending text within the field (or the whole expression).
    public let value: String
    /// What is wrong, in words.
    public let reason: String

    /// - Parameters:
    ///   - code: the kind of mistake.
    ///   - expression: the whole expression.
    ///   - field: the field at fault, if one.
    ///   - value: the offending text.
    ///   - reason: what is wrong.
    public init(_ code: Code, expression: String, field: CronField?, value: String, reason: String) {
        self.code = code
        self.expression = expression
        self.field = field
        self.value = value
        self.reason = reason
    }

    public var description: String {
        let location = field.map { "\($0): " } ?? ""
        return "invalid cron expression \"\(expression)\": \(location)\(reason)"
    }
}
