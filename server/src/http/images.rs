//! `/api/datasets/{id}/images/{split}/{index}`: one image of a dataset as PNG, so pages can
//! show the closest pairs of a separation report. The last dataset read stays in memory:
//! a page asks for a dozen images of the same one at once.

use std::sync::Arc;

use astute::data::{self, DatasetId, Split};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tokio::sync::Mutex;

use super::AppState;
use super::error::{ApiError, ApiResult};

/// A dataset read from disk, shared by the requests that need it.
type Loaded = (DatasetId, Arc<Split>);

/// The most recently read dataset.
#[derive(Clone, Default)]
pub struct DatasetCache(Arc<Mutex<Option<Loaded>>>);

impl DatasetCache {
    async fn get(&self, id: DatasetId, dirs: &data::DataDirs) -> ApiResult<Arc<Split>> {
        let mut cached = self.0.lock().await;
        if let Some((held, split)) = cached.as_ref()
            && *held == id
        {
            return Ok(split.clone());
        }
        let dirs = dirs.clone();
        let split = tokio::task::spawn_blocking(move || data::load(id, &dirs))
            .await
            .map_err(anyhow::Error::from)?
            .map_err(|e| ApiError::not_found(&format!("{id} on this server ({e})")))?;
        let split = Arc::new(split);
        *cached = Some((id, split.clone()));
        Ok(split)
    }
}

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
