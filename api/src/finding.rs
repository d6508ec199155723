//! The paper's claims from Tables 2–4, each checked in one setting on the paper's own
//! numbers and on the measured ones (`GET /api/findings`, the Paper page, `astute
//! reproduce`): computed from the tables, never written by hand.

/// Whether a claim holds on one set of numbers, and the numbers that decide it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Verdict {
    /// `None` while a number the claim needs is not measured.
    pub holds: Option<bool>,
    /// The numbers behind the verdict, or what is missing.
    pub evidence: String,
}

impl Verdict {
    /// ✓, ✗, or – when not measured.
    pub fn mark(&self) -> &'static str {
        match self.holds {
            Some(true) => "✓",
            Some(false) => "✗",
            None => "–",
        }
    }
}

/// One claim in one setting of a table.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Finding {
    /// The claim in the paper's words, e.g. "TRADES is the smoothest".
    pub claim: String,
    /// The table (2, 3 or 4) whose rows decide it.
    pub table: u8,
    /// The table's setting: a network of Table 2, a dataset of Tables 3 and 4, with the
    /// stand-in it was measured on.
    pub setting: String,
    /// The claim on the paper's published numbers.
    pub paper: Verdict,
    /// The claim on the measured numbers (runs that did not train left out).
    pub measured: Verdict,
}

impl Finding {
    /// One line: "✓ Table 2 · cnn1 · TRADES is the smoothest: <evidence> (paper ✓: ...)".
    pub fn line(&self) -> String {
        format!(
            "{} Table {} · {} · {}: {} (paper {}: {})",
            self.measured.mark(),
            self.table,
            self.setting,
            self.claim,
            self.measured.evidence,
            self.paper.mark(),
            self.paper.evidence
        )
    }
}
