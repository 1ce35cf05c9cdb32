//! One error type for the whole crate: what failed, on which file, and whose fault it is.

use std::fmt;

/// Whose fault an error is. The UI words its message after this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The input is malformed, truncated or inconsistent.
    BadInput,
    /// The input is valid but uses something voxdrop does not read (yet).
    Unsupported,
    /// The input would need more memory than the configured limits allow.
    Limit,
    /// The caller asked for something impossible (bad option value).
    Parameter,
    /// Reading or writing a file failed (CLI only).
    Io,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::BadInput => "bad input",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Limit => "too large",
            ErrorKind::Parameter => "bad parameter",
            ErrorKind::Io => "i/o error",
        }
    }
}

/// A failure with context. `file` is the file name (never a patient field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub file: Option<String>,
    pub message: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, file: None, message: message.into() }
    }
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadInput, message)
    }
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }
    pub fn limit(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Limit, message)
    }
    pub fn parameter(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Parameter, message)
    }
    pub fn io(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Io, message)
    }
    /// Attach the file name, unless one is already attached.
    pub fn in_file(mut self, name: impl Into<String>) -> Self {
        if self.file.is_none() {
            self.file = Some(name.into());
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{file}: {} ({})", self.message, self.kind.as_str()),
            None => write!(f, "{} ({})", self.message, self.kind.as_str()),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::io(e.to_string())
    }
}

/// Extension to attach a file name to any `Result<_, Error>`.
pub trait Context<T> {
    fn in_file(self, name: &str) -> Result<T>;
}

impl<T> Context<T> for Result<T> {
    fn in_file(self, name: &str) -> Result<T> {
        self.map_err(|e| e.in_file(name))
    }
}
