/// A column chart over time as inline SVG: one slot a minute (or an hour), oldest on the left, one thin column per
/// series in each slot, scaled to the largest value; each column's tooltip says its time and count. Like
/// ``BarChart``: no script, no library, drawn offline.
struct TimeChart {
    /// One slot: its label (`10:07`) and a value per series.
    struct Slot {
        let label: String
        let values: [Int]
    }

    let series: [BarChart.Series]
    let slots: [Slot]
    /// What the chart shows, for screen readers (`jobs per minute, last hour`).
    let caption: String

    var svg: HTML {
        let width = 720
        let left = 40
        let plotHeight = 120
        let top = 22
        let height = top + plotHeight + 18
        let largest = max(1, slots.flatMap(\.values).max() ?? 1)
        let slotWidth = Double(width - left) / Double(max(1, slots.count))
        let columnWidth = max(1.0, (slotWidth - 1) / Double(max(1, series.count)))
        var parts: [HTML] = []
        for (index, item) in series.enumerated() {
            let x = index * 120
            parts.append("<rect x=\"\(x)\" y=\"4\" width=\"10\" height=\"10\" fill=\"\(item.color)\"/><text x=\"\(x + 14)\" y=\"13\">\(item.name)</text>")
        }
        parts.append("<text x=\"0\" y=\"\(top + 8)\">\(largest)</text><text x=\"0\" y=\"\(top + plotHeight)\">0</text>")
        parts.append("<line x1=\"\(left)\" y1=\"\(top + plotHeight)\" x2=\"\(width)\" y2=\"\(top + plotHeight)\" stroke=\"#999\"/>")
        for (slotIndex, slot) in slots.enumerated() {
            let x0 = Double(left) + Double(slotIndex) * slotWidth
            for (seriesIndex, value) in slot.values.enumerated() where seriesIndex < series.count && value > 0 {
                let h = max(1, Int((Double(value) / Double(largest) * Double(plotHeight)).rounded()))
                let x = x0 + Double(seriesIndex) * columnWidth
                parts.append(
                    """
                    <rect x="\(Self.number(x))" y="\(top + plotHeight - h)" width="\(Self.number(columnWidth))" height="\(h)" fill="\(series[seriesIndex].color)">\
                    <title>\(slot.label) \(series[seriesIndex].name): \(value)</title></rect>
                    """)
            }
        }
        for slotIndex in Self.labelled(slots.count) {
            let x = Double(left) + Double(slotIndex) * slotWidth
            parts.append("<text x=\"\(Self.number(x))\" y=\"\(height - 4)\">\(slots[slotIndex].label)</text>")
        }
        return """
            <svg class="chart timechart" role="img" aria-label="\(caption)" viewBox="0 0 \(width) \(height)" width="\(width)" height="\(height)" xmlns="http://www.w3.org/2000/svg">\(parts)</svg>
            """
    }

    /// The slots whose label is written under the axis: about six, evenly spread, always the first.
    static func labelled(_ count: Int) -> [Int] {
        guard count > 0 else { return [] }
        let step = max(1, count / 6)
        return Array(stride(from: 0, to: count, by: step))
    }

    /// `12.5` with one decimal at most: short markup.
    private static func number(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
