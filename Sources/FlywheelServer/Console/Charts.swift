import Foundation

/// A chart as data: shapes with their coordinates and texts, drawn as inline SVG by the `chart`
/// template (no script, no CDN), which escapes every text like any other value. Each has a title
/// and a description that lists its numbers, so a screen reader gets what the eye gets.
struct ChartView {
    var id: String
    var title: String
    /// The numbers in words, for the SVG's `<desc>`.
    var summary: String
    var viewBox: String
    var axes: [Line] = []
    var rects: [Rect] = []
    var polylines: [Polyline] = []
    var texts: [Text] = []
    var legend: Legend?

    struct Line { var x1: String; var y1: String; var x2: String; var y2: String }
    struct Rect { var x: String; var y: String; var width: String; var height: String; var rx: String; var fill: String }
    /// `dash`: a `stroke-dasharray`, for a stretch still going (today); empty for a solid line.
    struct Polyline { var points: String; var stroke: String; var dash = "" }
    /// `kind` is its CSS class: `label`, `value` or `tick`; `anchor` its `text-anchor`.
    struct Text { var x: String; var y: String; var anchor: String; var kind: String; var text: String }
    struct Legend { var keys: [Key] }
    struct Key { var color: String; var label: String; var value: Int }

    init(title: String, summary: String, width: Double, height: Double) {
        id = "c" + String(UInt32(truncatingIfNeeded: (title + summary).hashValue), radix: 36)
        self.title = title
        self.summary = summary
        viewBox = "0 0 \(Charts.f(width)) \(Charts.f(height))"
    }
}

/// The console's three charts.
enum Charts {
    static let palette = ["#94a3b8", "#60a5fa", "#f59e0b", "#e11d48", "#10b981", "#8b5cf6", "#14b8a6", "#f97316"]

    static func color(_ i: Int) -> String { palette[i % palette.count] }

    /// Horizontal bars narrowing downward: fans per tier, widest first.
    static func funnel(title: String, _ steps: [(label: String, value: Int)]) -> ChartView {
        let width = 560.0, row = 44.0
        let top = Double(max(steps.map(\.value).max() ?? 1, 1))
        var chart = ChartView(title: title, summary: describe(steps), width: width + 140, height: Double(steps.count) * row + 10)
        for (i, step) in steps.enumerated() {
            let w = max(4, width * Double(step.value) / top)
            let x = (width - w) / 2 + 120
            let y = Double(i) * row + 8
            chart.rects.append(.init(x: f(x), y: f(y), width: f(w), height: f(row - 10), rx: "4", fill: color(i + 1)))
            chart.texts.append(.init(x: "110", y: f(y + row / 2), anchor: "end", kind: "label", text: step.label))
            chart.texts.append(.init(x: f(120 + width / 2), y: f(y + row / 2), anchor: "middle", kind: "value", text: "\(step.value)"))
        }
        return chart
    }

    /// Lines over days, one a series, with the first and last date marked. `today`: the last day is
    /// still going; its stretch is dashed and its date says so, so a partial day does not read as a drop.
    static func lines(title: String, days: [String], series: [(label: String, values: [Int])], today: String? = nil) -> ChartView {
        let width = 640.0, height = 220.0, left = 48.0, bottom = 28.0
        let top = Double(max(series.flatMap(\.values).max() ?? 1, 1))
        let n = max(days.count - 1, 1)
        let summary = series.map { "\($0.label): \($0.values.first ?? 0) (\(days.first ?? "")) → \($0.values.last ?? 0) (\(days.last ?? ""))" }
            .joined(separator: "; ")
        var chart = ChartView(title: title, summary: summary, width: width, height: height)
        chart.axes.append(.init(x1: f(left), y1: f(height - bottom), x2: f(width), y2: f(height - bottom)))
        chart.texts.append(.init(x: f(left - 6), y: "14", anchor: "end", kind: "tick", text: "\(Int(top))"))
        chart.texts.append(.init(x: f(left - 6), y: f(height - bottom), anchor: "end", kind: "tick", text: "0"))
        if let first = days.first, let last = days.last {
            chart.texts.append(.init(x: f(left), y: f(height - 8), anchor: "start", kind: "tick", text: first))
            chart.texts.append(.init(x: f(width), y: f(height - 8), anchor: "end", kind: "tick", text: today.map { "\(last) (\($0))" } ?? last))
        }
        for (s, line) in series.enumerated() {
            let points = line.values.enumerated().map { i, v in
                "\(f(left + (width - left) * Double(i) / Double(n))),\(f(height - bottom - (height - bottom - 10) * Double(v) / top))"
            }
            if today != nil, points.count >= 2 {
                chart.polylines.append(.init(points: points.dropLast().joined(separator: " "), stroke: color(s + 1)))
                chart.polylines.append(.init(points: points.suffix(2).joined(separator: " "), stroke: color(s + 1), dash: "4 4"))
            } else {
                chart.polylines.append(.init(points: points.joined(separator: " "), stroke: color(s + 1)))
            }
        }
        chart.legend = ChartView.Legend(keys: series.enumerated().map { s, line in
            ChartView.Key(color: color(s + 1), label: line.label, value: line.values.last ?? 0)
        })
        return chart
    }

    /// Horizontal bars, longest first, each labelled on its left: for many or long labels.
    static func rows(title: String, _ items: [(label: String, value: Int)]) -> ChartView {
        let width = 420.0, row = 26.0, labelWidth = 150.0
        let top = Double(max(items.map(\.value).max() ?? 1, 1))
        var chart = ChartView(title: title, summary: describe(items), width: labelWidth + width + 70, height: Double(items.count) * row + 6)
        for (i, item) in items.enumerated() {
            let y = Double(i) * row + 4
            chart.rects.append(.init(x: f(labelWidth), y: f(y), width: f(max(2, width * Double(item.value) / top)), height: f(row - 8), rx: "3", fill: color(i + 1)))
            chart.texts.append(.init(x: f(labelWidth - 8), y: f(y + row / 2), anchor: "end", kind: "label", text: item.label))
            chart.texts.append(.init(x: f(labelWidth + max(2, width * Double(item.value) / top) + 6), y: f(y + row / 2), anchor: "start", kind: "value", text: "\(item.value)"))
        }
        return chart
    }

    /// Vertical bars with their numbers.
    static func bars(title: String, _ items: [(label: String, value: Int)]) -> ChartView {
        let height = 220.0, bottom = 36.0
        let bar = min(90, 560 / Double(max(items.count, 1)) - 14)
        let top = Double(max(items.map(\.value).max() ?? 1, 1))
        var chart = ChartView(title: title, summary: describe(items), width: 580, height: height)
        for (i, item) in items.enumerated() {
            let h = max(2, (height - bottom - 20) * Double(item.value) / top)
            let x = 10 + Double(i) * (bar + 14)
            chart.rects.append(.init(x: f(x), y: f(height - bottom - h), width: f(bar), height: f(h), rx: "3", fill: color(i + 1)))
            chart.texts.append(.init(x: f(x + bar / 2), y: f(height - bottom - h - 4), anchor: "middle", kind: "value", text: "\(item.value)"))
            chart.texts.append(.init(x: f(x + bar / 2), y: f(height - 14), anchor: "middle", kind: "label", text: item.label))
        }
        return chart
    }

    static func describe(_ items: [(label: String, value: Int)]) -> String {
        items.map { "\($0.label): \($0.value)" }.joined(separator: ", ")
    }

    static func f(_ x: Double) -> String { String(format: "%.1f", x) }
}
