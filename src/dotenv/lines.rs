//! Splitting a dotenv file into logical lines as dotenvy 0.15 does: a quote
//! left open continues onto the next line, a `#` after whitespace outside
//! quotes ends the line, and a line that starts with `#` is skipped.
//!
//! A port of dotenvy's `QuotedLines` and `eval_end_state`, kept byte for
//! byte in behaviour (the property test in `mod.rs` compares the two), so
//! that each logical line carries the number of the line it starts on.

/// One logical line: the number of its first physical line (from 1) and
/// its text, without its final newline.
pub struct Line<'a> {
    pub number: usize,
    pub text: &'a str,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Complete,
    Escape,
    StrongOpen,
    StrongOpenEscape,
    WeakOpen,
    WeakOpenEscape,
    Comment,
    WhiteSpace,
}

/// The logical lines of `text`, or the number of the line a quote was
/// left open on at the end of the file.
pub fn split(text: &str) -> Result<Vec<Line<'_>>, usize> {
    let mut lines = Vec::new();
    let mut rest = text;
    let mut number = 1;
    while !rest.is_empty() {
        let first = number;
        let mut state = State::Complete;
        let mut len = 0;
        let line = loop {
            let Some(physical) = physical(&rest[len..]) else {
                return Err(first);
            };
            let start = len;
            len += physical.len();
            number += 1;
            if rest[..len].trim_start().starts_with('#') {
                break "";
            }
            let (at, end) = end_state(state, physical);
            state = end;
            match state {
                State::Complete => {
                    let line = &rest[..len];
                    let line = line.strip_suffix('\n').unwrap_or(line);
                    break line.strip_suffix('\r').unwrap_or(line);
                }
                State::Comment => break &rest[..start + at],
                _ => {}
            }
        };
        rest = &rest[len..];
        lines.push(Line {
            number: first,
            text: line,
        });
    }
    Ok(lines)
}

/// The next physical line of `text`, with its newline; `None` at the end.
fn physical(text: &str) -> Option<&str> {
    if text.is_empty() {
        return None;
    }
    Some(match text.find('\n') {
        Some(at) => &text[..=at],
        None => text,
    })
}

/// The state after `line`, and where a comment starts if one does.
fn end_state(mut state: State, line: &str) -> (usize, State) {
    let mut at = 0;
    for (pos, c) in line.char_indices() {
        at = pos;
        state = match state {
            State::WhiteSpace => match c {
                '#' => return (at, State::Comment),
                '\\' => State::Escape,
                '"' => State::WeakOpen,
                '\'' => State::StrongOpen,
                _ => State::Complete,
            },
            State::Escape => State::Complete,
            State::Complete => match c {
                c if c.is_whitespace() && c != '\n' && c != '\r' => State::WhiteSpace,
                '\\' => State::Escape,
                '"' => State::WeakOpen,
                '\'' => State::StrongOpen,
                _ => State::Complete,
            },
            State::WeakOpen => match c {
                '\\' => State::WeakOpenEscape,
                '"' => State::Complete,
                _ => State::WeakOpen,
            },
            State::WeakOpenEscape => State::WeakOpen,
            State::StrongOpen => match c {
                '\\' => State::StrongOpenEscape,
                '\'' => State::Complete,
                _ => State::StrongOpen,
            },
            State::StrongOpenEscape => State::StrongOpen,
            // Never reached: a comment returns at once.
            State::Comment => State::Comment,
        };
    }
    (at, state)
}
