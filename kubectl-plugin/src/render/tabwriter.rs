//! Column alignment of Go's `text/tabwriter` (as configured by Argo: minwidth 0, padding 2,
//! pad with spaces, no flags), with ANSI colour sequences taking no width (as in
//! `juju/ansiterm`'s tabwriter, which Argo uses for the tree).
//!
//! Text is cut into lines at `\n` and into cells at `\t`. Every tab-terminated cell belongs to a
//! column; the text after the last tab does not. A column's width is the widest cell of a
//! *block* of consecutive lines that all have a cell in that column, plus the padding; cells are
//! left-aligned and padded with spaces, empty ones included.

/// Aligns `text` the way Go's tabwriter does when flushed.
pub fn align(text: &str, padding: usize) -> String {
    let lines: Vec<Vec<&str>> = text.split('\n').map(|l| l.split('\t').collect()).collect();
    let widths: Vec<Vec<usize>> = lines
        .iter()
        .map(|cells| cells.iter().map(|c| display_width(c)).collect())
        .collect();
    let table = Table {
        lines: &lines,
        widths: &widths,
        padding,
    };
    let mut out = String::with_capacity(text.len() * 2);
    table.format(&mut out, &mut Vec::new(), 0, lines.len());
    out
}

/// Characters that take a column: every `char` except those of ANSI CSI sequences (`ESC [ … m`).
pub fn display_width(s: &str) -> usize {
    let mut width = 0;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if ('\x40'..='\x7e').contains(&c) {
                    break;
                }
            }
            continue;
        }
        width += 1;
    }
    width
}

struct Table<'a> {
    lines: &'a [Vec<&'a str>],
    widths: &'a [Vec<usize>],
    padding: usize,
}

impl Table<'_> {
    /// Has line `i` a tab-terminated cell in `column`?
    fn has_cell(&self, i: usize, column: usize) -> bool {
        column + 1 < self.lines[i].len()
    }

    /// Go's `Writer.format`: lays out lines `line0..line1` given the widths of the columns to the
    /// left (`col_widths`), recursing into each block of the next column.
    fn format(
        &self,
        out: &mut String,
        col_widths: &mut Vec<usize>,
        mut line0: usize,
        line1: usize,
    ) {
        let column = col_widths.len();
        let mut this = line0;
        while this < line1 {
            if !self.has_cell(this, column) {
                this += 1;
                continue;
            }
            self.write_lines(out, col_widths, line0, this);
            line0 = this;
            let mut width = 0;
            while this < line1 && self.has_cell(this, column) {
                width = width.max(self.widths[this][column] + self.padding);
                this += 1;
            }
            col_widths.push(width);
            self.format(out, col_widths, line0, this);
            col_widths.pop();
            line0 = this;
        }
        self.write_lines(out, col_widths, line0, line1);
    }

    fn write_lines(&self, out: &mut String, col_widths: &[usize], line0: usize, line1: usize) {
        for i in line0..line1 {
            for (j, cell) in self.lines[i].iter().enumerate() {
                out.push_str(cell);
                if let Some(&w) = col_widths.get(j) {
                    let pad = w.saturating_sub(self.widths[i][j]);
                    out.extend(std::iter::repeat_n(' ', pad));
                }
            }
            if i + 1 < self.lines.len() {
                out.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_columns_with_padding_and_keeps_trailing_text_unpadded() {
        let text = "NAME\tKIND\tINFO\nlonger-name\tPod\tready:1/1\nx\t\t\n";
        assert_eq!(
            align(text, 2),
            format!(
                "NAME         KIND  INFO\nlonger-name  Pod   ready:1/1\nx{}\n",
                " ".repeat(18)
            )
        );
    }

    #[test]
    fn a_line_without_the_column_ends_the_block() {
        let text = "a\tb\nlong\tc\nno tabs here\nzz\td\n";
        assert_eq!(align(text, 2), "a     b\nlong  c\nno tabs here\nzz  d\n");
    }

    #[test]
    fn ansi_sequences_take_no_width() {
        let text = "\x1b[32m✔\x1b[0m ok\tX\nlonger\tY\n";
        assert_eq!(align(text, 2), "\x1b[32m✔\x1b[0m ok    X\nlonger  Y\n");
        assert_eq!(display_width("\x1b[0m॥\x1b[0m Paused"), 8);
    }

    #[test]
    fn last_line_without_newline_is_kept() {
        assert_eq!(align("a\tb\ncc\td", 1), "a  b\ncc d");
    }
}
