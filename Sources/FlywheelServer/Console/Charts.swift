import Foundation

/// Charts as inline SVG, drawn here: no script, no CDN. Each has a title and a description that
/// lists its numbers, so a screen reader gets what the eye gets.
enum Charts {
    static let palette = ["#94a3b8", "#60a5fa", "#f59e0b", "#e11d48", "#10b981", "#8b5cf6", "#14b8a6", "#f97316"]

    /// Horizontal bars narrowing downward: fans per tier, widest first.
    static func funnel(title: String, _ steps: [(label: String, value: Int)]) -> String {
        let width = 560.0, row = 44.0
        let top = Double(max(steps.map(\.value).max() ?? 1, 1))
        var body = ""
        for (i, step) in steps.enumerated() {
            let w = max(4, width * Double(step.value) / top)
            let x = (width - w) / 2 + 120
            let y = Double(i) * row + 8
            body += """
                <rect x="\(f(x))" y="\(f(y))" width="\(f(w))" height="\(f(row - 10))" rx="4" fill="\(palette[(i + 1) % palette.count])"></rect>
                <text x="110" y="\(f(y + row / 2))" text-anchor="end" class="label">\(html(step.label))</text>
                <text x="\(f(120 + width / 2))" y="\(f(y + row / 2))" text-anchor="middle" class="value">\(step.value)</text>
                """
        }
        return svg(title: title, description: describe(steps), width: width + 140, height: Double(steps.count) * row + 10, body)
    }

    /// Lines over days, one a series, with the first and last date marked.
    static func lines(title: String, days: [String], series: [(label: String, values: [Int])]) -> String {
        let width = 640.0, height = 220.0, left = 48.0, bottom = 28.0
        let top = Double(max(series.flatMap(\.values).max() ?? 1, 1))
        let n = max(days.count - 1, 1)
        var body = """
            <line x1="\(f(left))" y1="\(f(height - bottom))" x2="\(f(width))" y2="\(f(height - bottom))" class="axis"></line>
            <text x="\(f(left - 6))" y="14" text-anchor="end" class="tick">\(Int(top))</text>
            <text x="\(f(left - 6))" y="\(f(height - bottom))" text-anchor="end" class="tick">0</text>
            """
        if let first = days.first, let last = days.last {
            body += """
                <text x="\(f(left))" y="\(f(height - 8))" class="tick">\(html(first))</text>
                <text x="\(f(width))" y="\(f(height - 8))" text-anchor="end" class="tick">\(html(last))</text>
                """
        }
        for (s, line) in series.enumerated() {
            let points = line.values.enumerated().map { i, v in
                "\(f(left + (width - left) * Double(i) / Double(n))),\(f(height - bottom - (height - bottom - 10) * Double(v) / top))"
            }.joined(separator: " ")
            body += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(palette[(s + 1) % palette.count])\" stroke-width=\"2\"></polyline>"
        }
        let legend = series.enumerated().map { s, line in
            "<span class=\"key\"><i style=\"background:\(palette[(s + 1) % palette.count])\"></i>\(html(line.label)) \(line.values.last ?? 0)</span>"
        }.joined()
        let description = series.map { "\($0.label): \($0.values.first ?? 0) on \(days.first ?? "") to \($0.values.last ?? 0) on \(days.last ?? "")" }.joined(separator: "; ")
        return svg(title: title, description: description, width: width, height: height, body, after: "<div class=\"legend\">\(legend)</div>")
    }

    /// Vertical bars with their numbers.
    static func bars(title: String, _ items: [(label: String, value: Int)]) -> String {
        let height = 220.0, bottom = 36.0
        let bar = min(90, 560 / Double(max(items.count, 1)) - 14)
        let top = Double(max(items.map(\.value).max() ?? 1, 1))
        var body = ""
        for (i, item) in items.enumerated() {
            let h = max(2, (height - bottom - 20) * Double(item.value) / top)
            let x = 10 + Double(i) * (bar + 14)
            body += """
                <rect x="\(f(x))" y="\(f(height - bottom - h))" width="\(f(bar))" height="\(f(h))" rx="3" fill="\(palette[(i + 1) % palette.count])"></rect>
                <text x="\(f(x + bar / 2))" y="\(f(height - bottom - h - 4))" text-anchor="middle" class="value">\(item.value)</text>
                <text x="\(f(x + bar / 2))" y="\(f(height - 14))" text-anchor="middle" class="label">\(html(item.label))</text>
                """
        }
        return svg(title: title, description: describe(items), width: 580, height: height, body)
    }

    static func svg(title: String, description: String, width: Double, height: Double, _ body: String, after: String = "") -> String {
        let id = "c" + String(UInt32(truncatingIfNeeded: (title + description).hashValue), radix: 36)
        return """
            <figure class="chart"><figcaption>\(html(title))</figcaption>
            <svg viewBox="0 0 \(f(width)) \(f(height))" role="img" aria-labelledby="\(id)t \(id)d" xmlns="http://www.w3.org/2000/svg">
            <title id="\(id)t">\(html(title))</title><desc id="\(id)d">\(html(description))</desc>\(body)</svg>\(after)</figure>
            """
    }

    static func describe(_ items: [(label: String, value: Int)]) -> String {
        items.map { "\($0.label): \($0.value)" }.joined(separator: ", ")
    }

    static func f(_ x: Double) -> String { String(format: "%.1f", x) }
}

/// Text made safe for HTML.
func html(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.count)
    for c in text {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(c)
        }
    }
    return out
}
