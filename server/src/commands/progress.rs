//! An indicatif progress bar fed by training events.

use astute::train::TrainEvent;
use indicatif::{ProgressBar, ProgressStyle};

pub struct TrainProgress {
    bar: Option<ProgressBar>,
}

impl TrainProgress {
    /// A bar on stderr, or silence (JSON output, tests).
    pub fn new(visible: bool) -> Self {
        Self {
            bar: visible.then(ProgressBar::hidden),
        }
    }

    pub fn observe(&mut self, event: &TrainEvent) {
        let Some(bar) = &mut self.bar else { return };
        match event {
            TrainEvent::EpochStarted {
                epoch,
                epochs,
                batches,
                learning_rate,
            } => {
                *bar = ProgressBar::new(*batches as u64).with_style(
                    ProgressStyle::with_template(
                        "{prefix} [{bar:30}] {pos}/{len} batches {msg} ({eta})",
                    )
                    .expect("valid template")
                    .progress_chars("=> "),
                );
                bar.set_prefix(format!(
                    "epoch {}/{epochs} lr {learning_rate:.2e}",
                    epoch + 1
                ));
            }
            TrainEvent::Batch {
                batch,
                loss,
                images_per_second,
                ..
            } => {
                bar.set_position(*batch as u64 + 1);
                bar.set_message(format!("loss {loss:.4}, {images_per_second:.0} img/s"));
            }
            TrainEvent::EpochFinished {
                epoch,
                mean_loss,
                seconds,
            } => {
                bar.finish_and_clear();
                eprintln!(
                    "epoch {}: mean loss {mean_loss:.4} in {seconds:.1} s",
                    epoch + 1
                );
            }
            TrainEvent::Checkpointed { .. } => {}
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
