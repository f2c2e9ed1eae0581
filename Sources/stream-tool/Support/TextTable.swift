/// A text table whose columns line up: numbers right-aligned, text left-aligned.
struct TextTable {
    enum Alignment { case left, right }

    private let titles: [String]
    private let alignments: [Alignment]
    private var rows: [[String]] = []

    init(_ columns: [(String, Alignment)]) {
        titles = columns.map(\.0)
        alignments = columns.map(\.1)
    }

    mutating func add(_ row: [String]) {
        precondition(row.count == titles.count, "a row has one cell per column")
        rows.append(row)
    }

    func render(indent: String = "") -> String {
        let all = [titles] + rows
        let widths = titles.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        var text = ""
        for row in all {
            var line = indent
            for (column, cell) in row.enumerated() {
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                let isLast = column == row.count - 1
                switch alignments[column] {
                case .left: line += isLast ? cell : cell + padding
                case .right: line += padding + cell
                }
                if !isLast { line += "  " }
            }
            // An empty last cell leaves the padding of the one before it.
            while line.hasSuffix(" ") { line.removeLast() }
            text += line + "\n"
        }
        return text
    }
}

/// A table written a row at a time, for outputs too long to hold in memory (`dump` of a large
/// segment): each column has a fixed width, wide enough for its title and its usual values; a
/// longer value pushes the rest of its row along rather than being cut.
struct StreamingTable {
    struct Column {
        var title: String
        var width: Int
        var alignment: TextTable.Alignment
    }

    let columns: [Column]
    let indent: String

    init(_ columns: [(title: String, width: Int, alignment: TextTable.Alignment)], indent: String = "") {
        self.columns = columns.map { Column(title: $0.title, width: max($0.width, $0.title.count), alignment: $0.alignment) }
        self.indent = indent
    }

    /// The titles, with a newline.
    var titles: String { row(columns.map(\.title)) }

    /// One row, with a newline. `colour` styles a column's text after it is padded, so escape
    /// codes never count as width.
    func row(_ cells: [String], colour: [Int: (String) -> String] = [:]) -> String {
        precondition(cells.count == columns.count, "a row has one cell per column")
        var line = indent
        for (index, cell) in cells.enumerated() {
            let column = columns[index]
            let padding = String(repeating: " ", count: max(0, column.width - cell.count))
            let text = colour[index].map { $0(cell) } ?? cell
            let isLast = index == cells.count - 1
            switch column.alignment {
            case .left: line += isLast ? text : text + padding
            case .right: line += padding + text
            }
            if !isLast { line += "  " }
        }
        // An empty last cell leaves the padding of the one before it.
        while line.hasSuffix(" ") { line.removeLast() }
        return line + "\n"
    }
}
