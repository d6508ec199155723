//! Model weights as safetensors, with the metadata needed to rebuild the network.
//!
//! CNN1 and CNN2 use the tensor names and layouts of the equivalent PyTorch
//! `nn.Sequential` (`0.weight`, `11.bias`, linear weights as `[out, in]`), so a file moves
//! between Astute and PyTorch both ways; other networks use their module paths.

use std::collections::HashMap;

use burn::prelude::*;
use burn::store::{
    BurnToPyTorchAdapter, FloatCastAdapter, KeyRemapper, ModuleAdapter, ModuleSnapshot,
    PyTorchToBurnAdapter, SafetensorsStore,
};
use burn::tensor::DType;

use crate::data::ImageShape;
use crate::model::{Architecture, Network, NetworkConfig};

/// Metadata stored in the safetensors header under these keys.
const KEY_ARCHITECTURE: &str = "astute.architecture";
const KEY_INPUT: &str = "astute.input";
const KEY_CLASSES: &str = "astute.classes";
const KEY_DROPOUT: &str = "astute.dropout";

#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error("not a safetensors file: {0}")]
    Format(#[source] safetensors::SafeTensorError),
    #[error("the file's metadata {key} is not {expected}")]
    Metadata {
        key: &'static str,
        expected: &'static str,
    },
    /// burn's store reports its failures as text.
    #[error("the weights could not be written: {0}")]
    Store(String),
    #[error(
        "the file does not say which network it holds ({0} is missing): pass the architecture explicitly"
    )]
    MissingMetadata(&'static str),
    #[error("the weights do not fit the network: {0}")]
    Mismatch(String),
    #[error("the file names an unknown network: {0}")]
    Architecture(#[from] astute_api::NameError),
    #[error("the network the file describes cannot be built: {0}")]
    Network(#[from] crate::model::NetworkError),
}

/// How a file stores its floats. Half precision halves the file (the playground's models
/// travel to every visitor) and rounds each weight to 11 significant bits; networks always
/// compute in full precision, whatever the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    #[default]
    Full,
    Half,
}

impl Precision {
    fn dtype(self) -> DType {
        match self {
            Self::Full => DType::F32,
            Self::Half => DType::F16,
        }
    }

    /// The precision of a file's weights: half when any tensor is stored as F16.
    pub fn of(bytes: &[u8]) -> Result<Self, WeightsError> {
        let half = checked_header(bytes)?
            .tensors()
            .values()
            .any(|info| info.dtype == safetensors::Dtype::F16);
        Ok(if half { Self::Half } else { Self::Full })
    }
}

/// Module path → PyTorch `nn.Sequential` index, for the architectures that have one.
fn sequential_names(architecture: Architecture) -> &'static [(&'static str, &'static str)] {
    match architecture {
        Architecture::Cnn1 => &[("conv1", "0"), ("conv2", "2"), ("fc1", "7"), ("fc2", "10")],
        Architecture::Cnn2 => &[
            ("conv1", "0"),
            ("conv2", "2"),
            ("conv3", "5"),
            ("conv4", "7"),
            ("fc1", "11"),
            ("fc2", "14"),
            ("fc3", "16"),
        ],
        _ => &[],
    }
}

fn remapper(pairs: impl Iterator<Item = (String, String)>) -> KeyRemapper {
    KeyRemapper::from_patterns(pairs.collect()).expect("fixed patterns are valid regexes")
}

/// The header of a safetensors file, checked by the `safetensors` crate (tensor offsets
/// contiguous and inside the data, sizes matching shapes and dtypes, the file fully
/// covered), and its metadata. Burn reads only files that pass, so corrupted bytes give an
/// error instead of a panic.
pub fn read_header(bytes: &[u8]) -> Result<HashMap<String, String>, WeightsError> {
    Ok(checked_header(bytes)?
        .metadata()
        .clone()
        .unwrap_or_default())
}

fn checked_header(bytes: &[u8]) -> Result<safetensors::tensor::Metadata, WeightsError> {
    safetensors::SafeTensors::read_metadata(bytes)
        .map(|(_, metadata)| metadata)
        .map_err(WeightsError::Format)
}

/// The network a weights file describes, from its metadata.
pub fn network_config(metadata: &HashMap<String, String>) -> Result<NetworkConfig, WeightsError> {
    let get = |key: &'static str| metadata.get(key).ok_or(WeightsError::MissingMetadata(key));
    let architecture = get(KEY_ARCHITECTURE)?.parse()?;
    let input: Vec<usize> = get(KEY_INPUT)?
        .split('x')
        .map(|d| {
            d.parse().map_err(|_| WeightsError::Metadata {
                key: KEY_INPUT,
                expected: "C x H x W",
            })
        })
        .collect::<Result<_, _>>()?;
    let [channels, height, width] = input[..] else {
        return Err(WeightsError::Metadata {
            key: KEY_INPUT,
            expected: "C x H x W",
        });
    };
    let classes = get(KEY_CLASSES)?
        .parse()
        .map_err(|_| WeightsError::Metadata {
            key: KEY_CLASSES,
            expected: "a number",
        })?;
    let dropout = get(KEY_DROPOUT)?
        .parse()
        .map_err(|_| WeightsError::Metadata {
            key: KEY_DROPOUT,
            expected: "a number",
        })?;
    Ok(NetworkConfig {
        architecture,
        input: ImageShape::new(channels, height, width),
        classes,
        dropout,
    })
}

/// Serialises `model` (built from `config`) to safetensors bytes, floats at `precision`.
pub fn to_bytes(
    model: &Network,
    config: &NetworkConfig,
    precision: Precision,
) -> Result<Vec<u8>, WeightsError> {
    let pairs = sequential_names(config.architecture)
        .iter()
        .map(|(burn, torch)| (format!("^{burn}\\."), format!("{torch}.")));
    let input = config.input;
    let mut store = SafetensorsStore::from_bytes(None)
        .skip_enum_variants(true)
        .with_to_adapter(BurnToPyTorchAdapter.chain(FloatCastAdapter::to(precision.dtype())))
        .remap(remapper(pairs))
        .metadata(KEY_ARCHITECTURE, config.architecture.to_string())
        .metadata(
            KEY_INPUT,
            format!("{}x{}x{}", input.channels, input.height, input.width),
        )
        .metadata(KEY_CLASSES, config.classes.to_string())
        .metadata(KEY_DROPOUT, config.dropout.to_string());
    model
        .save_into(&mut store)
        .map_err(|e| WeightsError::Store(e.to_string()))?;
    store
        .get_bytes()
        .map_err(|e| WeightsError::Store(e.to_string()))
}

/// Builds the network a safetensors file describes and loads its weights on `device`.
/// `fallback` names the network when the file has no Astute metadata (e.g. a PyTorch export).
pub fn from_bytes(
    bytes: Vec<u8>,
    fallback: Option<NetworkConfig>,
    device: &Device,
) -> Result<(Network, NetworkConfig), WeightsError> {
    let metadata = read_header(&bytes)?;
    let config = match network_config(&metadata) {
        Ok(c) => c,
        Err(WeightsError::MissingMetadata(key)) => {
            fallback.ok_or(WeightsError::MissingMetadata(key))?
        }
        Err(e) => return Err(e),
    };
    let mut model = config.init(device)?;
    let pairs = sequential_names(config.architecture)
        .iter()
        .map(|(burn, torch)| (format!("^{torch}\\."), format!("{burn}.")));
    let mut store = SafetensorsStore::from_bytes(Some(bytes))
        .skip_enum_variants(true)
        // Half-precision (or f64) files load into the f32 network.
        .with_from_adapter(PyTorchToBurnAdapter.chain(FloatCastAdapter::to(DType::F32)))
        .remap(remapper(pairs))
        .allow_partial(false);
    let result = model
        .load_from(&mut store)
        .map_err(|e| WeightsError::Mismatch(e.to_string()))?;
    if !result.errors.is_empty() || !result.missing.is_empty() {
        return Err(WeightsError::Mismatch(format!("{result}")));
    }
    Ok((model, config))
}
