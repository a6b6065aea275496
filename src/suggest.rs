//! "Did you mean": the known words close to a mistyped one.
//!
//! Used for unknown commands and options (with clap's own list of visible
//! names) and for unknown secret, service and identity names. Plain text
//! in, plain text out; it depends on nothing of ours.

/// The candidates close to `word`, closest first; among equally close ones
/// the caller's order is kept (canonical names before aliases). Case is
/// ignored. A candidate is close when it is a few edits away (an
/// adjacent swap counts as one), a third of the word's length at most.
pub fn close<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let word = word.to_lowercase();
    let limit = word.chars().count().max(3) / 3;
    let mut scored: Vec<(usize, usize, &str)> = candidates
        .into_iter()
        .enumerate()
        .filter_map(|(order, candidate)| {
            let d = distance(&word, &candidate.to_lowercase());
            (d <= limit && candidate.to_lowercase() != word).then_some((d, order, candidate))
        })
        .collect();
    scored.sort();
    let mut out: Vec<&str> = Vec::new();
    for (_, _, candidate) in scored {
        if !out.contains(&candidate) {
            out.push(candidate);
        }
    }
    out
}

/// "did you mean X?", "did you mean X or Y?", or `None` when nothing is
/// close. `quote` wraps each name (backticks for commands).
pub fn did_you_mean(close: &[&str], quote: &str) -> Option<String> {
    let quoted: Vec<String> = close
        .iter()
        .take(3)
        .map(|c| format!("{quote}{c}{quote}"))
        .collect();
    match quoted.as_slice() {
        [] => None,
        [one] => Some(format!("did you mean {one}?")),
        [rest @ .., last] => Some(format!("did you mean {} or {last}?", rest.join(", "))),
    }
}

/// Edit distance with adjacent transpositions (optimal string alignment).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_word() {
        assert_eq!(close("onyl", ["only", "service", "env"]), ["only"]);
        assert_eq!(close("strpe", ["stripe", "deploy"]), ["stripe"]);
        assert_eq!(close("rooot", ["root", "ci"]), ["root"]);
        assert_eq!(close("STRIPE_KY", ["STRIPE_KEY", "DB_URL"]), ["STRIPE_KEY"]);
    }

    #[test]
    fn far_words_and_the_word_itself_are_not_suggested() {
        assert!(close("deploy", ["stripe", "db"]).is_empty());
        assert!(close("ab", ["xy"]).is_empty());
        assert!(close("list", ["list"]).is_empty());
    }

    #[test]
    fn closest_first_then_the_callers_order() {
        assert_eq!(close("lst", ["list", "ls", "last"]), ["list", "ls", "last"]);
        assert_eq!(close("rmove", ["remove", "move"]), ["remove", "move"]);
    }

    #[test]
    fn sentences() {
        assert_eq!(did_you_mean(&[], "`"), None);
        assert_eq!(did_you_mean(&["a"], "`").unwrap(), "did you mean `a`?");
        assert_eq!(
            did_you_mean(&["a", "b", "c"], "").unwrap(),
            "did you mean a, b or c?"
        );
    }
}
