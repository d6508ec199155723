//! Why a name (of a dataset, network, method, metric or optimizer) did not parse.

/// A name that does not parse: which kind of name it was meant to be, and a sentence that
/// quotes it and says what is expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct NameError {
    /// `dataset`, `architecture`, `method`, `metric` or `optimizer`.
    pub kind: &'static str,
    message: String,
}

impl NameError {
    pub(crate) fn new(kind: &'static str, message: String) -> Self {
        Self { kind, message }
    }
}
