import Foundation

/// Which queues a worker serves and how it chooses between them.
///
/// Weighted (`critical:6,default:3,low:1`): each job slot picks a queue at random in proportion to its
/// weight among queues with work, so a busy `critical` queue cannot starve `low` entirely. Strict
/// (`--strict`, or weights omitted with `strict: true`): always the first queue with work, in order.
public struct QueueSelection: Sendable, Hashable {
    /// Queue names with their weights, in the order given.
    public let queues: [(name: String, weight: Int)]
    /// Strict priority instead of weights.
    public let strict: Bool

    public static func == (a: Self, b: Self) -> Bool {
        a.strict == b.strict && a.queues.map(\.name) == b.queues.map(\.name) && a.queues.map(\.weight) == b.queues.map(\.weight)
    }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(strict)
        for queue in queues { hasher.combine(queue.name); hasher.combine(queue.weight) }
    }

    /// The largest weight: weights are summed as `Int` when a queue is picked, and a ratio above 1000:1 is not a
    /// weighting any more (`--strict` is the order without weights).
    public static let maxWeight = 1000

    /// Parses `name[:weight],...`; a missing weight is 1.
    /// - Throws: ``QueueSelectionError`` naming the bad entry.
    public init(parsing text: String, strict: Bool = false) throws {
        var seen = Set<String>()
        var queues: [(String, Int)] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = part.trimmingCharacters(in: .whitespaces)
            // Empty pieces kept: `:3` served a queue named `3`, and `default:` took weight 1, both unsaid.
            let pieces = item.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let name = pieces[0]
            if name.isEmpty && pieces.count == 2 { throw QueueSelectionError(message: "'\(item)' has no queue name before its weight") }
            guard QueueName.isValid(name) else {
                throw QueueSelectionError(message: "'\(item)' is not a queue name (letters, digits, . _ - only)")
            }
            var weight = 1
            if pieces.count == 2 {
                if pieces[1].isEmpty {
                    throw QueueSelectionError(message: "'\(item)' has no weight after its colon (give one, or leave out the colon for weight 1)")
                }
                guard let w = Int(pieces[1]), (1...Self.maxWeight).contains(w) else {
                    throw QueueSelectionError(message: "the weight in '\(item)' must be a whole number from 1 to \(Self.maxWeight)")
                }
                weight = w
            }
            guard seen.insert(name).inserted else { throw QueueSelectionError(message: "queue '\(name)' is listed twice") }
            queues.append((name, weight))
        }
        self.queues = queues
        self.strict = strict
    }

    /// The given queues, equal weights.
    public init(_ names: [String], strict: Bool = false) {
        queues = names.map { ($0, 1) }
        self.strict = strict
    }

    /// The queue names in order.
    public var names: [String] { queues.map(\.name) }

    /// Picks a queue among those `available`, per weights or strict order; nil if none is available. `unit` is a
    /// draw from [0, 1), from the caller's generator (``SplitMix64``: the system's is a system call a draw).
    func pick(among available: (String) -> Bool, unit: Double) -> String? {
        if strict { return queues.first { available($0.name) }?.name }
        let candidates = queues.filter { available($0.name) }
        let total = candidates.reduce(0) { $0 + $1.weight }
        guard total > 0 else { return nil }
        var target = unit * Double(total)
        for candidate in candidates {
            target -= Double(candidate.weight)
            if target < 0 { return candidate.name }
        }
        return candidates.last?.name
    }

    /// The queue names shuffled by weight (for the order of streams in one fetch), drawn from `random`.
    func weightedOrder(using random: inout some RandomNumberGenerator) -> [String] {
        if strict { return names }
        var remaining = queues
        var order: [String] = []
        while !remaining.isEmpty {
            let total = remaining.reduce(0) { $0 + $1.weight }
            var target = Double.random(in: 0..<Double(total), using: &random)
            let index = remaining.firstIndex { target -= Double($0.weight); return target < 0 } ?? remaining.count - 1
            order.append(remaining.remove(at: index).name)
        }
        return order
    }
}

/// A `--queues` value that cannot be used.
public struct QueueSelectionError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { "--queues: \(message)" }
}

/// Rules for queue names: they become part of Redis keys and hash tags.
public enum QueueName {
    /// Letters, digits, `.`, `_`, `-`; 1 to 64 characters, not starting with `.`, no `..`. No braces (they would
    /// break the hash tag). The same rule as an envelope's `queue` (``EnvelopeRules/queueProblem(_:)``).
    public static func isValid(_ name: String) -> Bool {
        EnvelopeRules.queueProblem(name) == nil
    }
}
