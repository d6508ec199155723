//! The runs table's filter language: `dataset = fashion-mnist and adv_test_acc > 50`.
//!
//! ```text
//! expr       := and ("or" and)*
//! and        := unary ("and" unary)*
//! unary      := "not" unary | "(" expr ")" | field op value
//! op         := = | != | < | <= | > | >= | ~        (~ : contains)
//! value      := number | word | "quoted" | 'quoted'
//! ```
//! Words are case-insensitive; a comparison with a field a row lacks is false. Written by
//! hand: it is a few dozen lines, and its error messages point at the column.

use crate::run_rows::{Field, Row};

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare {
        field: String,
        op: Op,
        value: String,
    },
    Not(Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
}

/// A filter that could not be read: what is wrong and the 1-based column.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Op(Op),
    Open,
    Close,
}

fn tokenize(text: &str) -> Result<Vec<(usize, Token)>, SyntaxError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        let next = chars.get(i + 1).copied();
        let (token, width) = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => (Token::Open, 1),
            ')' => (Token::Close, 1),
            '=' if next == Some('=') => (Token::Op(Op::Eq), 2),
            '=' => (Token::Op(Op::Eq), 1),
            '!' if next == Some('=') => (Token::Op(Op::Ne), 2),
            '<' if next == Some('=') => (Token::Op(Op::Le), 2),
            '<' => (Token::Op(Op::Lt), 1),
            '>' if next == Some('=') => (Token::Op(Op::Ge), 2),
            '>' => (Token::Op(Op::Gt), 1),
            '~' => (Token::Op(Op::Contains), 1),
            '"' | '\'' => {
                let end =
                    chars[i + 1..]
                        .iter()
                        .position(|&d| d == c)
                        .ok_or_else(|| SyntaxError {
                            column,
                            message: format!("the quote {c} is never closed"),
                        })?;
                let inner: String = chars[i + 1..i + 1 + end].iter().collect();
                (Token::Quoted(inner), end + 2)
            }
            c if is_word_char(c) => {
                let width = chars[i..].iter().take_while(|&&d| is_word_char(d)).count();
                (Token::Word(chars[i..i + width].iter().collect()), width)
            }
            other => {
                return Err(SyntaxError {
                    column,
                    message: format!("unexpected character {other:?}"),
                });
            }
        };
        tokens.push((column, token));
        i += width;
    }
    Ok(tokens)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '+')
}

/// Reads `text` into a filter whose fields are among `fields`; an empty text is `None`
/// (every row passes).
pub fn parse(text: &str, fields: &[&str]) -> Result<Option<Filter>, SyntaxError> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Ok(None);
    }
    let mut parser = Parser {
        tokens,
        at: 0,
        end_column: text.chars().count() + 1,
        fields,
    };
    let filter = parser.or()?;
    match parser.tokens.get(parser.at) {
        None => Ok(Some(filter)),
        Some((column, _)) => Err(SyntaxError {
            column: *column,
            message: "expected `and`, `or` or the end here".into(),
        }),
    }
}

struct Parser<'a> {
    tokens: Vec<(usize, Token)>,
    at: usize,
    end_column: usize,
    fields: &'a [&'a str],
}

impl Parser<'_> {
    fn column(&self) -> usize {
        self.tokens
            .get(self.at)
            .map_or(self.end_column, |(c, _)| *c)
    }

    fn keyword(&mut self, word: &str) -> bool {
        let found = matches!(self.tokens.get(self.at), Some((_, Token::Word(w))) if w.eq_ignore_ascii_case(word));
        if found {
            self.at += 1;
        }
        found
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, SyntaxError> {
        Err(SyntaxError {
            column: self.column(),
            message: message.into(),
        })
    }

    fn or(&mut self) -> Result<Filter, SyntaxError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, SyntaxError> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, SyntaxError> {
        if self.keyword("not") {
            return Ok(Filter::Not(Box::new(self.unary()?)));
        }
        if matches!(self.tokens.get(self.at), Some((_, Token::Open))) {
            self.at += 1;
            let inner = self.or()?;
            if !matches!(self.tokens.get(self.at), Some((_, Token::Close))) {
                return self.error("expected `)`");
            }
            self.at += 1;
            return Ok(inner);
        }
        let field = match self.tokens.get(self.at) {
            Some((_, Token::Word(w))) => w.to_ascii_lowercase(),
            _ => return self.error("expected a field name, `not` or `(`"),
        };
        if !self.fields.contains(&field.as_str()) {
            return self.error(format!(
                "unknown field `{field}` (fields: {})",
                self.fields.join(", ")
            ));
        }
        self.at += 1;
        let op = match self.tokens.get(self.at) {
            Some((_, Token::Op(op))) => *op,
            _ => return self.error(format!("expected =, !=, <, <=, >, >= or ~ after `{field}`")),
        };
        self.at += 1;
        let value = match self.tokens.get(self.at) {
            Some((_, Token::Word(w) | Token::Quoted(w))) => w.clone(),
            _ => return self.error("expected a value"),
        };
        self.at += 1;
        Ok(Filter::Compare { field, op, value })
    }
}

impl Filter {
    /// Whether `row` passes.
    pub fn accepts(&self, row: &Row) -> bool {
        match self {
            Self::Not(inner) => !inner.accepts(row),
            Self::And(a, b) => a.accepts(row) && b.accepts(row),
            Self::Or(a, b) => a.accepts(row) || b.accepts(row),
            Self::Compare { field, op, value } => compare(row.field(field), *op, value),
        }
    }
}

fn compare(found: &Field, op: Op, wanted: &str) -> bool {
    use std::cmp::Ordering::*;
    let Some(text) = found.raw() else {
        return false;
    };
    // A field with several names (a stand-in dataset) equals, or contains, any of them.
    let any_name = |test: &dyn Fn(&str) -> bool| found.names().iter().any(|name| test(name));
    let order = |text: &str| ordering(text, found.number(), wanted);
    match op {
        Op::Contains => any_name(&|name| name.to_lowercase().contains(&wanted.to_lowercase())),
        Op::Eq => any_name(&|name| order(name) == Some(Equal)),
        Op::Ne => !any_name(&|name| order(name) == Some(Equal)),
        Op::Lt => order(&text) == Some(Less),
        Op::Le => matches!(order(&text), Some(Less | Equal)),
        Op::Gt => order(&text) == Some(Greater),
        Op::Ge => matches!(order(&text), Some(Greater | Equal)),
    }
}

/// How a field's value compares with `wanted`: as numbers when both are, else as text
/// ignoring case.
fn ordering(text: &str, number: Option<f64>, wanted: &str) -> Option<std::cmp::Ordering> {
    match (number, wanted.parse::<f64>()) {
        (Some(a), Ok(b)) => a.partial_cmp(&b),
        _ => Some(text.to_lowercase().cmp(&wanted.to_lowercase())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_rows::COLUMNS as FIELDS;
    use crate::run_rows::finished_run;
    use astute_api::{DatasetId, RunSummary};

    fn summary(
        dataset: DatasetId,
        method: &str,
        adv_test_acc: Option<f64>,
        seed: u64,
    ) -> RunSummary {
        RunSummary {
            adv_test_acc,
            ..finished_run(
                &format!("{dataset}-{method}-{seed}"),
                dataset,
                method.parse().unwrap(),
                seed,
            )
        }
    }

    fn run(dataset: DatasetId, method: &str, adv_test_acc: Option<f64>, seed: u64) -> Row {
        Row::of(&summary(dataset, method, adv_test_acc, seed))
    }

    fn matching(filter: &str, rows: &[Row]) -> Vec<usize> {
        let filter = parse(filter, FIELDS).unwrap().unwrap();
        (0..rows.len())
            .filter(|&i| filter.accepts(&rows[i]))
            .collect()
    }

    fn rows() -> Vec<Row> {
        vec![
            run(DatasetId::FashionMnist, "trades:6", Some(71.5), 0),
            run(DatasetId::FashionMnist, "natural", Some(3.2), 1),
            run(DatasetId::MnistSample, "at", Some(94.3), 0),
            run(DatasetId::MnistSample, "natural", None, 0),
        ]
    }

    #[test]
    fn the_issue_example_keeps_robust_fashion_mnist_runs() {
        assert_eq!(
            matching("dataset = fashion-mnist and adv_test_acc > 50", &rows()),
            vec![0]
        );
    }

    #[test]
    fn numbers_compare_as_numbers_and_words_ignore_case() {
        // As text "94.3" < "9.5"; as numbers it is not.
        assert_eq!(matching("adv_test_acc >= 9.5", &rows()), vec![0, 2]);
        assert_eq!(matching("METHOD = Natural", &rows()), vec![1, 3]);
        assert_eq!(matching("method ~ TRADES", &rows()), vec![0]);
        assert_eq!(matching("seed != 0", &rows()), vec![1]);
    }

    #[test]
    fn and_binds_tighter_than_or_and_parentheses_override() {
        let r = rows();
        assert_eq!(
            matching("method = at or method = natural and seed = 1", &r),
            vec![1, 2]
        );
        assert_eq!(
            matching("(method = at or method = natural) and seed = 0", &r),
            vec![2, 3]
        );
        assert_eq!(matching("not dataset = mnist-sample", &r), vec![0, 1]);
    }

    #[test]
    fn a_missing_value_matches_no_comparison() {
        assert_eq!(matching("adv_test_acc < 1000", &rows()), vec![0, 1, 2]);
        assert_eq!(matching("not adv_test_acc < 1000", &rows()), vec![3]);
    }

    #[test]
    fn a_stand_in_answers_to_the_name_the_tables_use() {
        let stand_in = RunSummary {
            stands_in_for: Some(DatasetId::Mnist),
            ..summary(DatasetId::MnistSample, "at", None, 0)
        };
        let r = vec![
            Row::of(&stand_in),
            run(DatasetId::MnistSample, "natural", None, 0),
            run(DatasetId::FashionMnist, "at", None, 0),
        ];
        assert_eq!(matching("dataset = mnist", &r), vec![0]);
        assert_eq!(matching("dataset = MNIST-sample", &r), vec![0, 1]);
        assert_eq!(matching("dataset != mnist", &r), vec![1, 2]);
        assert_eq!(matching("dataset ~ mnist", &r), vec![0, 1, 2]);
        assert_eq!(r[0].field("dataset").text(2), "mnist-sample (as mnist)");
    }

    #[test]
    fn quoted_values_keep_spaces() {
        let mut spaced = summary(DatasetId::Spiral, "at", None, 0);
        spaced.id = "a b".into();
        let r = vec![Row::of(&spaced), run(DatasetId::Spiral, "at", None, 1)];
        let ids = |filter: &str| -> Vec<String> {
            matching(filter, &r)
                .into_iter()
                .map(|i| r[i].id.clone())
                .collect()
        };
        assert_eq!(matching("id = 'a b'", &r), vec![0]);
        assert_eq!(matching("id = \"spiral-at-1\"", &r), vec![1]);
        assert_eq!(ids("id ~ ' '"), vec!["a b".to_owned()]);
    }

    #[test]
    fn errors_name_the_problem_and_its_column() {
        let error = |text| parse(text, FIELDS).unwrap_err();
        let e = error("adv_tst_acc > 5");
        assert_eq!(e.column, 1);
        assert!(e.message.contains("unknown field `adv_tst_acc`"), "{e}");
        assert_eq!(error("seed >").column, 7);
        assert!(error("seed >").message.contains("expected a value"));
        assert_eq!(error("seed 5").column, 6);
        assert_eq!(error("(seed = 1").message, "expected `)`");
        assert_eq!(error("seed = 1 seed").column, 10);
        assert!(error("method = 'at").message.contains("never closed"));
        assert!(error("seed # 1").message.contains("unexpected character"));
    }

    #[test]
    fn an_empty_filter_is_none() {
        assert_eq!(parse("   ", FIELDS).unwrap(), None);
    }
}
