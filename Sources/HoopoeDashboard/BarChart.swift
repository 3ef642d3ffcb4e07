/// A horizontal bar chart as inline SVG: one row per label, one bar per series, scaled to the largest value.
/// No script and no library: the page draws it as markup, offline.
struct BarChart {
    struct Series {
        let name: String
        let color: String
    }

    let series: [Series]
    /// A label and one value per series.
    let rows: [(label: String, values: [Int])]

    var svg: HTML {
        let width = 640
        let labelWidth = 140
        let barHeight = 12
        let rowHeight = barHeight * series.count + 10
        let legendHeight = 22
        let height = legendHeight + max(1, rows.count) * rowHeight
        let largest = max(1, rows.flatMap(\.values).max() ?? 1)
        let scale = Double(width - labelWidth - 60) / Double(largest)
        var parts: [HTML] = []
        for (index, item) in series.enumerated() {
            let x = index * 120
            parts.append(
                "<rect x=\"\(x)\" y=\"4\" width=\"10\" height=\"10\" fill=\"\(item.color)\"/><text x=\"\(x + 14)\" y=\"13\">\(item.name)</text>")
        }
        for (rowIndex, row) in rows.enumerated() {
            let top = legendHeight + rowIndex * rowHeight
            parts.append("<text x=\"0\" y=\"\(top + rowHeight / 2 + 3)\">\(row.label)</text>")
            for (seriesIndex, value) in row.values.enumerated() where seriesIndex < series.count {
                let y = top + seriesIndex * barHeight
                // A negative count (a hand-edited counter: `-9e18`) draws no bar: scaled, it was past any Int, a trap.
                let length = max(value > 0 ? 1 : 0, Int((Double(max(0, value)) * scale).rounded()))
                parts.append(
                    """
                    <rect x="\(labelWidth)" y="\(y)" width="\(length)" height="\(barHeight - 2)" fill="\(series[seriesIndex].color)"><title>\(series[seriesIndex].name): \(value)</title></rect>\
                    <text x="\(labelWidth + length + 4)" y="\(y + barHeight - 3)">\(value)</text>
                    """)
            }
        }
        return """
            <svg class="chart" role="img" aria-label="jobs today per queue" viewBox="0 0 \(width) \(height)" width="\(width)" height="\(height)" xmlns="http://www.w3.org/2000/svg">\(parts)</svg>
            """
    }
}
