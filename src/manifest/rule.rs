//! A manifest's rule for a variable's value: a pattern, a length, and
//! placeholders refused. The one home of `regex` in the crate.
//!
//! A rule is described in words taken from the manifest only (the
//! pattern, the lengths), never from the value it refused.

use std::sync::{Arc, Mutex, OnceLock};

/// What a value of one variable must look like.
#[derive(Debug, Default)]
pub struct Rule {
    /// A regular expression the whole value must match (anchor it with
    /// `^...$` to mean the whole value: it is searched, as `grep` does).
    pub pattern: Option<String>,
    /// The line of the pattern in the manifest.
    pub pattern_line: usize,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    /// Placeholder values refused (compared without case, trimmed).
    pub deny: Vec<String>,
    compiled: OnceLock<Option<Arc<regex::bytes::Regex>>>,
}

impl Rule {
    pub fn new(
        pattern: Option<(String, usize)>,
        min_length: Option<usize>,
        max_length: Option<usize>,
        deny: Vec<String>,
    ) -> Rule {
        let (pattern, pattern_line) = pattern.map_or((None, 0), |(p, l)| (Some(p), l));
        Rule {
            pattern,
            pattern_line,
            min_length,
            max_length,
            deny,
            compiled: OnceLock::new(),
        }
    }

    /// Checks `value`; the error describes the rule it breaks, never the
    /// value.
    pub fn check(&self, value: &[u8]) -> Result<(), String> {
        let length = std::str::from_utf8(value).map_or(value.len(), |s| s.chars().count());
        if let Some(min) = self.min_length.filter(|min| length < *min) {
            return Err(format!("it must be at least {min} characters long"));
        }
        if let Some(max) = self.max_length.filter(|max| length > *max) {
            return Err(format!("it must be at most {max} characters long"));
        }
        let trimmed = value.trim_ascii();
        if self
            .deny
            .iter()
            .any(|d| d.as_bytes().trim_ascii().eq_ignore_ascii_case(trimmed))
        {
            return Err("it is a placeholder that the manifest's deny list refuses".into());
        }
        if let Some(pattern) = &self.pattern {
            let regex = self.compiled.get_or_init(|| compiled(pattern));
            if !regex.as_ref().is_some_and(|r| r.is_match(value)) {
                return Err(format!("it must match the pattern {pattern}"));
            }
        }
        Ok(())
    }
}

/// Checks a manifest's pattern without building its matcher (cheaper,
/// and every exec in a project reads every pattern): the syntax only.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    regex_syntax::ParserBuilder::new()
        .build()
        .parse(pattern)
        .map(|_| ())
        .map_err(|e| {
            let text = e.to_string();
            let last = text.lines().last().unwrap_or("").trim();
            format!(
                "invalid regular expression: {}",
                last.trim_start_matches("error: ")
            )
        })
}

/// The matcher for `pattern`, built once per process whatever the number
/// of variables that share it (building one is most of what a rule costs).
fn compiled(pattern: &str) -> Option<Arc<regex::bytes::Regex>> {
    static BUILT: Mutex<Vec<(String, Option<Arc<regex::bytes::Regex>>)>> = Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, regex)) = built.iter().find(|(p, _)| p == pattern) {
        return regex.clone();
    }
    let regex = regex::bytes::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .ok()
        .map(Arc::new);
    built.push((pattern.to_owned(), regex.clone()));
    regex
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> Rule {
        Rule::new(
            Some(("^sk_(test|live)_[A-Za-z0-9]+$".into(), 1)),
            Some(12),
            Some(40),
            vec!["changeme".into(), "xxx".into()],
        )
    }

    #[test]
    fn describes_the_rule_a_value_breaks_never_the_value() {
        let r = rule();
        assert_eq!(r.check(b"sk_test_abcdef123"), Ok(()));
        assert_eq!(
            r.check(b"sk_test_1"),
            Err("it must be at least 12 characters long".into())
        );
        assert_eq!(
            r.check(" CHANGEME  ".as_bytes()).unwrap_err(),
            "it must be at least 12 characters long"
        );
        let deny = Rule::new(None, None, None, vec!["changeme".into()]);
        assert_eq!(
            deny.check(b" ChangeMe\n"),
            Err("it is a placeholder that the manifest's deny list refuses".into())
        );
        assert_eq!(
            r.check(b"pk_test_abcdef123"),
            Err("it must match the pattern ^sk_(test|live)_[A-Za-z0-9]+$".into())
        );
        assert!(r.check(&[b'a'; 41]).is_err());
    }

    #[test]
    fn a_bad_pattern_is_named() {
        assert!(check_pattern("^(a")
            .unwrap_err()
            .starts_with("invalid regular expression: "));
        assert_eq!(check_pattern("^sk_[a-z]+$"), Ok(()));
    }
}
