//! `/api/datasets/{id}/images/{split}/{index}`: one image of a dataset as PNG, so pages can
//! show the closest pairs of a separation report. Datasets read stay in memory (the few
//! used most recently): a page asks for a dozen images of the same one at once.

use std::sync::{Arc, Mutex};

use astute::data::{self, DatasetId, Split};
use astute_api::ErrorBody;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tokio::sync::OnceCell;

use super::AppState;
use super::error::{ApiError, ApiResult};

/// Datasets held in memory at most; the one used least recently goes first.
const HELD: usize = 3;

/// One dataset, read once by whichever request needs it first while the others wait for
/// it (and only for it).
type Cell = Arc<OnceCell<Arc<Split>>>;

/// The datasets read from disk, in order of use (most recent last).
#[derive(Clone, Default)]
pub struct DatasetCache(Arc<Mutex<Vec<(DatasetId, Cell)>>>);

impl DatasetCache {
    /// Dataset `id`'s cell, now the most recently used; the least recent beyond [`HELD`]
    /// is let go (requests still reading it keep their copy).
    fn cell(&self, id: DatasetId) -> Cell {
        let mut cells = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let cell = match cells.iter().position(|(held, _)| *held == id) {
            Some(at) => cells.remove(at).1,
            None => Cell::default(),
        };
        cells.push((id, cell.clone()));
        if cells.len() > HELD {
            cells.remove(0);
        }
        cell
    }

    async fn get(&self, id: DatasetId, dirs: &data::DataDirs) -> ApiResult<Arc<Split>> {
        let dirs = dirs.clone();
        self.get_with(id, move || data::load(id, &dirs)).await
    }

    /// Dataset `id`, read with `load` (on a blocking thread) unless it is held.
    async fn get_with(
        &self,
        id: DatasetId,
        load: impl FnOnce() -> Result<Split, data::DataError> + Send + 'static,
    ) -> ApiResult<Arc<Split>> {
        let cell = self.cell(id);
        let split = cell
            .get_or_try_init(|| async {
                let loaded = tokio::task::spawn_blocking(load)
                    .await
                    .map_err(anyhow::Error::from)?;
                loaded.map(Arc::new).map_err(|error| {
                    // The reason names this server's folders: for its log, not the client.
                    tracing::warn!("images of {id}: {error}");
                    ApiError::not_found(&format!("{id} on this server"))
                })
            })
            .await?;
        Ok(split.clone())
    }
}

#[utoipa::path(get, path = "/api/datasets/{id}/images/{split}/{index}", tag = "datasets",
    summary = "One image of a dataset as PNG (a separation report's closest pairs)",
    params(("id" = String, Path), ("split" = String, Path, description = "train or test"), ("index" = usize, Path)),
    responses((status = 200, content_type = "image/png", body = Vec<u8>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn image(
    State(state): State<AppState>,
    Path((dataset, split, index)): Path<(String, String, usize)>,
) -> ApiResult<Response> {
    let id: DatasetId = dataset.parse().map_err(ApiError::bad_request)?;
    let loaded = state.datasets.get(id, &state.data).await?;
    let part = match split.as_str() {
        "train" => &loaded.train,
        "test" => &loaded.test,
        other => {
            return Err(ApiError::bad_request(format!(
                "unknown split {other:?}: train or test"
            )));
        }
    };
    if index >= part.len() {
        return Err(ApiError::not_found(&format!(
            "image {index} ({split} has {})",
            part.len()
        )));
    }
    let png = encode_png(part.image(index), part.shape()).map_err(anyhow::Error::from)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            // Dataset files do not change under a running server.
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        png,
    )
        .into_response())
}

/// `pixels` (CHW, one or three channels) as a PNG file.
fn encode_png(pixels: &[u8], shape: data::ImageShape) -> image::ImageResult<Vec<u8>> {
    let (w, h) = (shape.width as u32, shape.height as u32);
    let plane = shape.height * shape.width;
    let (bytes, colour) = if shape.channels == 3 {
        let interleaved = (0..plane)
            .flat_map(|p| (0..3).map(move |c| pixels[c * plane + p]))
            .collect();
        (interleaved, image::ExtendedColorType::Rgb8)
    } else {
        (pixels[..plane].to_vec(), image::ExtendedColorType::L8)
    };
    let mut png = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut png),
        &bytes,
        w,
        h,
        colour,
    )?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn spiral() -> Result<Split, data::DataError> {
        Ok(data::SpiralConfig::default().generate()?.split)
    }

    /// Pages alternating between datasets read each once, and a dataset being read
    /// never holds up requests for another.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn datasets_are_held_apart_and_read_without_blocking_others() {
        let cache = DatasetCache::default();
        let loads = Arc::new(AtomicUsize::new(0));
        for _ in 0..10 {
            for id in [DatasetId::Mnist, DatasetId::FashionMnist] {
                let loads = loads.clone();
                cache
                    .get_with(id, move || {
                        loads.fetch_add(1, Ordering::Relaxed);
                        spiral()
                    })
                    .await
                    .unwrap();
            }
        }
        assert_eq!(loads.load(Ordering::Relaxed), 2);

        // CIFAR-10 takes until released; SVHN is served meanwhile.
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let slow = {
            let cache = cache.clone();
            tokio::spawn(async move {
                cache
                    .get_with(DatasetId::Cifar10, move || {
                        wait.recv().unwrap();
                        spiral()
                    })
                    .await
                    .map(|_| ())
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(cache.get_with(DatasetId::Svhn, spiral).await.is_ok());
        assert!(!slow.is_finished());
        release.send(()).unwrap();
        assert!(slow.await.unwrap().is_ok());

        // A failed read is not kept: the next request tries again.
        let failing = || Err(data::DataError::Invalid("missing".into()));
        assert!(cache.get_with(DatasetId::Spiral, failing).await.is_err());
        assert!(cache.get_with(DatasetId::Spiral, spiral).await.is_ok());
    }

    #[test]
    fn colour_images_are_interleaved_and_decode_back() {
        let shape = data::ImageShape {
            channels: 3,
            height: 1,
            width: 2,
        };
        // CHW: red plane, green plane, blue plane.
        let png = encode_png(&[10, 11, 20, 21, 30, 31], shape).unwrap();
        let decoded = image::load_from_memory(&png).unwrap().to_rgb8();
        assert_eq!(decoded.as_raw(), &[10, 20, 30, 11, 21, 31]);
    }

    #[test]
    fn grey_images_keep_their_pixels() {
        let shape = data::ImageShape {
            channels: 1,
            height: 2,
            width: 2,
        };
        let png = encode_png(&[0, 64, 128, 255], shape).unwrap();
        let decoded = image::load_from_memory(&png).unwrap().to_luma8();
        assert_eq!(decoded.as_raw(), &[0, 64, 128, 255]);
    }
}
