//! What a run of the binary gave: its status, stdout and stderr, with the
//! assertions tests make on them.

#![allow(dead_code)]

#[derive(Debug)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub raw_stdout: Vec<u8>,
}

impl Output {
    #[track_caller]
    pub fn success(self) -> Output {
        assert_eq!(self.code, Some(0), "expected success: {self:#?}");
        self
    }

    #[track_caller]
    pub fn code(self, code: i32) -> Output {
        assert_eq!(self.code, Some(code), "unexpected status: {self:#?}");
        self
    }

    /// Asserts the exact error line (and hint, if given) and status 2.
    #[track_caller]
    pub fn error(self, message: &str) -> Output {
        self.code(2).stderr_has(&format!("error: {message}\n"))
    }

    #[track_caller]
    pub fn stdout_is(self, expected: &str) -> Output {
        assert_eq!(self.stdout, expected, "stdout differs: {self:#?}");
        self
    }

    #[track_caller]
    pub fn stderr_is(self, expected: &str) -> Output {
        assert_eq!(self.stderr, expected, "stderr differs: {self:#?}");
        self
    }

    #[track_caller]
    pub fn stderr_has(self, part: &str) -> Output {
        assert!(
            self.stderr.contains(part),
            "stderr lacks {part:?}: {self:#?}"
        );
        self
    }

    /// Asserts the status and that stderr is exactly this error line and,
    /// when given, this hint line.
    #[track_caller]
    pub fn fails(self, code: i32, message: &str, hint: Option<&str>) -> Output {
        let mut expected = format!("error: {message}\n");
        if let Some(hint) = hint {
            expected.push_str(&format!("hint: {hint}\n"));
        }
        self.code(code).stdout_is("").stderr_is(&expected)
    }

    #[track_caller]
    pub fn stdout_has(self, part: &str) -> Output {
        assert!(
            self.stdout.contains(part),
            "stdout lacks {part:?}: {self:#?}"
        );
        self
    }
}
