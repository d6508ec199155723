//! A run's result printed the way the paper's tables lay it out, or as JSON.

use astute::metric::RunMetrics;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RunRow {
    pub dataset: String,
    pub architecture: String,
    pub method: String,
    pub dropout: f64,
    pub epsilon: f32,
    pub epochs: usize,
    pub metrics: RunMetrics,
    pub train_seconds: f64,
    pub wall_seconds: f64,
    /// Test accuracy (%) under PGD-10 at each ε, when asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accuracy_vs_epsilon: Vec<(f32, f64)>,
}

impl RunRow {
    pub fn print(&self, json: bool) -> anyhow::Result<()> {
        if json {
            println!("{}", serde_json::to_string_pretty(self)?);
            return Ok(());
        }
        let m = &self.metrics;
        println!(
            "{:<14} {:<10} {:<10} {:>7} {:>9} {:>8} {:>9} {:>8} {:>9} {:>8} {:>6} {:>7} {:>8}",
            "dataset",
            "arch",
            "method",
            "dropout",
            "train acc",
            "test acc",
            "adv train",
            "adv test",
            "train lip",
            "test lip",
            "gap",
            "adv gap",
            "wall"
        );
        println!(
            "{:<14} {:<10} {:<10} {:>7.2} {:>9.2} {:>8.2} {:>9.2} {:>8.2} {:>9.2} {:>8.2} {:>6.2} {:>7.2} {:>7.1}s",
            self.dataset,
            self.architecture,
            self.method,
            self.dropout,
            m.train.accuracy,
            m.test.accuracy,
            m.train.adversarial_accuracy,
            m.test.adversarial_accuracy,
            m.train.lipschitz,
            m.test.lipschitz,
            m.gap,
            m.adv_gap,
            self.wall_seconds
        );
        if !self.accuracy_vs_epsilon.is_empty() {
            let points: Vec<String> = self
                .accuracy_vs_epsilon
                .iter()
                .map(|(eps, acc)| format!("ε {eps}: {acc:.2}"))
                .collect();
            println!("test accuracy under PGD-10 by ε: {}", points.join(", "));
        }
        Ok(())
    }
}
