//! Tables for people (`list`, `audit`): left-aligned columns two spaces
//! apart, the last one unpadded, fitted to the terminal's width.
//!
//! At a terminal a table wider than the window is made to fit by a list of
//! steps each command states, applied in order until it fits: summarise a
//! column's long cells ("200 secrets"), shorten a column (cells end in
//! `…`), or drop a column. Into a pipe or a file there is no width, and
//! every table is printed in full.

/// One way to make a table narrower.
pub enum Fit {
    /// Replace the cells of a column by these shorter ones (one per row)
    /// where they are longer.
    Summarise(usize, Vec<String>),
    /// Shorten a column, down to this many characters at least.
    Shorten(usize, usize),
    /// Leave a column out.
    Drop(usize),
}

pub fn render(
    header: &[&str],
    rows: &[Vec<String>],
    width: Option<usize>,
    steps: Vec<Fit>,
) -> String {
    let mut rows: Vec<Vec<String>> = rows.to_vec();
    let mut keep = vec![true; header.len()];
    if let Some(width) = width {
        for step in steps {
            let total = total_width(header, &rows, &keep);
            if total <= width {
                break;
            }
            match step {
                Fit::Summarise(col, short) => {
                    for (row, short) in rows.iter_mut().zip(short) {
                        if short.chars().count() < row[col].chars().count() {
                            row[col] = short;
                        }
                    }
                }
                Fit::Shorten(col, min) => {
                    let now = column_width(header, &rows, col);
                    let to = now.saturating_sub(total - width).max(min);
                    for row in &mut rows {
                        row[col] = shorten(&row[col], to);
                    }
                }
                Fit::Drop(col) => keep[col] = false,
            }
        }
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| column_width(header, &rows, c))
        .collect();
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let start = out.len();
        for (c, cell) in cells.iter().enumerate().filter(|(c, _)| keep[*c]) {
            out.push_str(&format!("{cell:<w$}  ", w = widths[c]));
        }
        let trimmed = out[start..].trim_end().len();
        out.truncate(start + trimmed);
        out.push('\n');
    };
    line(header.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

fn column_width(header: &[&str], rows: &[Vec<String>], col: usize) -> usize {
    rows.iter()
        .map(|r| r[col].chars().count())
        .chain([header[col].chars().count()])
        .max()
        .unwrap_or(0)
}

fn total_width(header: &[&str], rows: &[Vec<String>], keep: &[bool]) -> usize {
    let kept: Vec<usize> = (0..header.len()).filter(|c| keep[*c]).collect();
    kept.iter()
        .map(|c| column_width(header, rows, *c))
        .sum::<usize>()
        + 2 * kept.len().saturating_sub(1)
}

/// `text` in at most `to` characters, ending in `…` when cut.
fn shorten(text: &str, to: usize) -> String {
    if text.chars().count() <= to {
        return text.to_owned();
    }
    let cut: String = text.chars().take(to.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

/// "1 secret", "200 secrets".
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Vec<String>> {
        vec![vec![
            "A".into(),
            "a long description here".into(),
            "x,y,z".into(),
        ]]
    }

    #[test]
    fn without_a_width_the_table_is_whole() {
        assert_eq!(
            render(&["N", "DESC", "L"], &rows(), None, vec![Fit::Drop(1)]),
            "N  DESC                     L\nA  a long description here  x,y,z\n"
        );
    }

    #[test]
    fn steps_apply_in_order_until_it_fits() {
        let steps = || {
            vec![
                Fit::Summarise(2, vec!["3".into()]),
                Fit::Shorten(1, 4),
                Fit::Drop(1),
            ]
        };
        assert_eq!(
            render(&["N", "DESC", "L"], &rows(), Some(29), steps()),
            "N  DESC                     L\nA  a long description here  3\n"
        );
        assert_eq!(
            render(&["N", "DESC", "L"], &rows(), Some(16), steps()),
            "N  DESC        L\nA  a long de…  3\n"
        );
        assert_eq!(
            render(&["N", "DESC", "L"], &rows(), Some(6), steps()),
            "N  L\nA  3\n"
        );
    }
}
