//! A method and its coefficients, named as in the paper's tables (`trades:6`, `rst:0.5`).

use std::fmt;
use std::str::FromStr;

/// Serialized as its table name (`trades:6`), which parses back exactly.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Method {
    /// Plain cross-entropy.
    Natural,
    /// Gradient regularisation in finite-difference form: CE + λ/2 · d², d the directional
    /// derivative along the normalised input gradient estimated with step `h`.
    Gr { lambda: f32, h: f32 },
    /// Locally linear regularisation: CE + λ·|non-linearity| + μ·|δ·∇ₓCE|.
    Llr { lambda: f32, mu: f32 },
    /// LLR as the paper's reference code ran it, whose input gradient was zeroed before
    /// use: the linear terms vanish, leaving CE + λ·|CE(x+δ) − CE(x)|, a weak adversarial
    /// training. The paper's LLR numbers were made with it.
    LlrRef { lambda: f32 },
    /// Adversarial training on PGD examples.
    At,
    /// Robust self-training on labelled data: CE(x) + λ·CE(PGD(x)).
    Rst { lambda: f32 },
    /// TRADES: CE(x) + β·KL(f(x) ‖ f(x′)).
    Trades { beta: f32 },
}

impl Method {
    /// Every method of the paper's Tables 2 and 3, in the tables' order.
    pub fn table_methods() -> Vec<Method> {
        [
            "natural", "gr", "llr", "at", "rst:0.5", "rst:1", "rst:2", "trades:1", "trades:3",
            "trades:6",
        ]
        .iter()
        .map(|s| s.parse().expect("table method names parse"))
        .collect()
    }

    /// Whether training crafts adversarial examples (the expensive methods).
    pub fn is_adversarial(&self) -> bool {
        matches!(
            self,
            Method::At
                | Method::Rst { .. }
                | Method::Trades { .. }
                | Method::Llr { .. }
                | Method::LlrRef { .. }
        )
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Method::Natural => write!(f, "natural"),
            Method::Gr { lambda, h } if *lambda == 1.0 && *h == 1.0 => write!(f, "gr"),
            Method::Gr { lambda, h } => write!(f, "gr:{lambda}:{h}"),
            Method::Llr { lambda, mu } if *lambda == 4.0 && *mu == 3.0 => write!(f, "llr"),
            Method::Llr { lambda, mu } => write!(f, "llr:{lambda}:{mu}"),
            Method::LlrRef { lambda } if *lambda == 4.0 => write!(f, "llr-ref"),
            Method::LlrRef { lambda } => write!(f, "llr-ref:{lambda}"),
            Method::At => write!(f, "at"),
            Method::Rst { lambda } => write!(f, "rst:{lambda}"),
            Method::Trades { beta } => write!(f, "trades:{beta}"),
        }
    }
}

serialize_as_name!(Method);
name_schema!(
    Method,
    "A training method as the paper's tables name it: natural, gr[:λ[:h]], llr[:λ[:μ]], llr-ref[:λ], at, rst:λ, trades:β."
);

impl FromStr for Method {
    type Err = crate::NameError;

    /// `natural`, `gr[:λ[:h]]`, `llr[:λ[:μ]]`, `llr-ref[:λ]`, `at`, `rst:λ`, `trades:β`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_name(s).map_err(|message| crate::NameError::new("method", message))
    }
}

impl Method {
    fn parse_name(s: &str) -> Result<Self, String> {
        let lower = s.trim().to_ascii_lowercase();
        let mut parts = lower.split(':');
        let name = parts.next().unwrap_or_default();
        let numbers: Vec<f32> = parts
            .map(|p| {
                p.parse::<f32>()
                    .ok()
                    .filter(|v| v.is_finite() && *v >= 0.0)
                    .ok_or_else(|| format!("'{s}': '{p}' is not a non-negative number"))
            })
            .collect::<Result<_, _>>()?;
        let arity = |max: usize| -> Result<(), String> {
            if numbers.len() > max {
                Err(format!("'{s}': {name} takes at most {max} coefficient(s)"))
            } else {
                Ok(())
            }
        };
        let at = |i: usize, default: f32| numbers.get(i).copied().unwrap_or(default);
        let method = match name {
            "natural" => {
                arity(0)?;
                Method::Natural
            }
            "gr" => {
                arity(2)?;
                let h = at(1, 1.0);
                if h == 0.0 {
                    return Err(format!("'{s}': the finite-difference step h must be > 0"));
                }
                Method::Gr {
                    lambda: at(0, 1.0),
                    h,
                }
            }
            "llr" => {
                arity(2)?;
                Method::Llr {
                    lambda: at(0, 4.0),
                    mu: at(1, 3.0),
                }
            }
            "llr-ref" => {
                arity(1)?;
                Method::LlrRef { lambda: at(0, 4.0) }
            }
            "at" => {
                arity(0)?;
                Method::At
            }
            "rst" => {
                arity(1)?;
                Method::Rst {
                    lambda: numbers
                        .first()
                        .copied()
                        .ok_or_else(|| format!("'{s}': rst needs λ, e.g. rst:1"))?,
                }
            }
            "trades" => {
                arity(1)?;
                Method::Trades {
                    beta: numbers
                        .first()
                        .copied()
                        .ok_or_else(|| format!("'{s}': trades needs β, e.g. trades:6"))?,
                }
            }
            _ => {
                return Err(format!(
                    "unknown method '{s}': expected natural, gr, llr, llr-ref, at, rst:λ or trades:β"
                ));
            }
        };
        Ok(method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_round_trip() {
        for m in Method::table_methods() {
            assert_eq!(m.to_string().parse::<Method>().unwrap(), m);
        }
        for name in ["llr-ref", "llr-ref:2"] {
            assert_eq!(name.parse::<Method>().unwrap().to_string(), name);
        }
        assert_eq!(
            "llr-ref".parse::<Method>().unwrap(),
            Method::LlrRef { lambda: 4.0 }
        );
        assert!("llr-ref:1:2".parse::<Method>().is_err());
        assert_eq!(
            "trades:6".parse::<Method>().unwrap(),
            Method::Trades { beta: 6.0 }
        );
    }

    #[test]
    fn rejects_bad_coefficients() {
        assert!(
            "trades"
                .parse::<Method>()
                .unwrap_err()
                .to_string()
                .contains("needs β")
        );
        assert!(
            "rst:-1"
                .parse::<Method>()
                .unwrap_err()
                .to_string()
                .contains("non-negative")
        );
        assert!("trades:nan".parse::<Method>().is_err());
        assert!(
            "gr:1:0"
                .parse::<Method>()
                .unwrap_err()
                .to_string()
                .contains("h must be > 0")
        );
        assert!(
            "mixup"
                .parse::<Method>()
                .unwrap_err()
                .to_string()
                .contains("unknown method")
        );
    }
}
