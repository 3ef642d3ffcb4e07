import HoopoeCore

/// Plain-text columns for terminal output: left-aligned, two spaces apart, header in capitals.
/// No borders or colours, so the output also greps and pastes cleanly. A cell's control characters are written as
/// escapes (``PrintableText``): a cell is one line, whatever a job's type or error holds.
struct TextTable {
    let header: [String]
    private(set) var rows: [[String]] = []

    init(_ header: String...) { self.header = header }

    mutating func add(_ row: String...) { rows.append(row.map(PrintableText.oneLine)) }

    /// The table as lines, each trimmed of trailing spaces.
    var text: String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return all.map { row in
            var line = ""
            for (column, cell) in row.enumerated() {
                let width = column < widths.count ? widths[column] : cell.count
                line += cell + String(repeating: " ", count: max(0, width - cell.count) + 2)
            }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }
}
