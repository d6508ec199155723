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
    Format(String),
    #[error(
        "the file does not say which network it holds ({0} is missing): pass the architecture explicitly"
    )]
    MissingMetadata(&'static str),
    #[error("the weights do not fit the network: {0}")]
    Mismatch(String),
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
        let (header, _) = header_json(bytes)?;
        let half = header
            .values()
            .filter_map(|entry| entry.get("dtype")?.as_str())
            .any(|dtype| dtype == "F16");
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

/// The JSON header of a safetensors file and where its data starts.
fn header_json(
    bytes: &[u8],
) -> Result<(serde_json::Map<String, serde_json::Value>, usize), WeightsError> {
    let fail = |m: String| Err(WeightsError::Format(m));
    if bytes.len() < 8 {
        return fail(format!(
            "{} bytes is shorter than the 8-byte header length",
            bytes.len()
        ));
    }
    let header_len = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    let data_start = match usize::try_from(header_len)
        .ok()
        .and_then(|l| l.checked_add(8))
    {
        Some(end) if end <= bytes.len() => end,
        _ => {
            return fail(format!(
                "the header claims {header_len} bytes but the file has {}",
                bytes.len()
            ));
        }
    };
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes[8..data_start])
            .map_err(|e| WeightsError::Format(format!("header is not JSON: {e}")))?;
    Ok((header, data_start))
}

/// The header of a safetensors file, checked: tensor offsets inside the data, sizes
/// matching shapes and dtypes. Burn reads only files that pass, so corrupted bytes give an
/// error instead of a panic.
pub fn read_header(bytes: &[u8]) -> Result<HashMap<String, String>, WeightsError> {
    let (header, data_start) = header_json(bytes)?;
    let data_len = (bytes.len() - data_start) as u128;
    let mut metadata = HashMap::new();
    for (name, entry) in &header {
        if name == "__metadata__" {
            let map = entry
                .as_object()
                .ok_or_else(|| WeightsError::Format("__metadata__ is not an object".into()))?;
            for (k, v) in map {
                let v = v
                    .as_str()
                    .ok_or_else(|| WeightsError::Format(format!("metadata {k} is not a string")))?;
                metadata.insert(k.clone(), v.to_string());
            }
            continue;
        }
        let bad = |what: &str| WeightsError::Format(format!("tensor {name}: {what}"));
        let dtype = entry
            .get("dtype")
            .and_then(|d| d.as_str())
            .ok_or_else(|| bad("no dtype"))?;
        let element = match dtype {
            "F64" | "I64" | "U64" => 8,
            "F32" | "I32" | "U32" => 4,
            "F16" | "BF16" | "I16" | "U16" => 2,
            "I8" | "U8" | "BOOL" => 1,
            other => return Err(bad(&format!("unsupported dtype {other}"))),
        };
        let shape = entry
            .get("shape")
            .and_then(|s| s.as_array())
            .ok_or_else(|| bad("no shape"))?;
        let mut count: u128 = 1;
        for d in shape {
            let d = d
                .as_u64()
                .ok_or_else(|| bad("a dimension is not a whole number"))?;
            count = count
                .checked_mul(u128::from(d))
                .filter(|&c| c <= data_len)
                .ok_or_else(|| bad("shape larger than the file"))?;
        }
        let offsets = entry
            .get("data_offsets")
            .and_then(|o| o.as_array())
            .ok_or_else(|| bad("no data_offsets"))?;
        let (begin, end) = match offsets.as_slice() {
            [b, e] => (
                b.as_u64()
                    .ok_or_else(|| bad("offset is not a whole number"))?,
                e.as_u64()
                    .ok_or_else(|| bad("offset is not a whole number"))?,
            ),
            _ => return Err(bad("data_offsets must hold two numbers")),
        };
        if begin > end || u128::from(end) > data_len {
            return Err(bad(&format!(
                "data_offsets [{begin}, {end}] fall outside the {data_len} data bytes"
            )));
        }
        if u128::from(end - begin) != count * element {
            return Err(bad(&format!(
                "{} bytes for {count} {dtype} values",
                end - begin
            )));
        }
    }
    Ok(metadata)
}

/// The network a weights file describes, from its metadata.
pub fn network_config(metadata: &HashMap<String, String>) -> Result<NetworkConfig, WeightsError> {
    let get = |key: &'static str| metadata.get(key).ok_or(WeightsError::MissingMetadata(key));
    let architecture = get(KEY_ARCHITECTURE)?
        .parse()
        .map_err(WeightsError::Mismatch)?;
    let input: Vec<usize> = get(KEY_INPUT)?
        .split('x')
        .map(|d| {
            d.parse()
                .map_err(|_| WeightsError::Format(format!("{KEY_INPUT} is not C x H x W")))
        })
        .collect::<Result<_, _>>()?;
    let [channels, height, width] = input[..] else {
        return Err(WeightsError::Format(format!(
            "{KEY_INPUT} is not C x H x W"
        )));
    };
    let classes = get(KEY_CLASSES)?
        .parse()
        .map_err(|_| WeightsError::Format(format!("{KEY_CLASSES} is not a number")))?;
    let dropout = get(KEY_DROPOUT)?
        .parse()
        .map_err(|_| WeightsError::Format(format!("{KEY_DROPOUT} is not a number")))?;
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
        .map_err(|e| WeightsError::Format(e.to_string()))?;
    store
        .get_bytes()
        .map_err(|e| WeightsError::Format(e.to_string()))
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
    let mut model = config.init(device).map_err(WeightsError::Mismatch)?;
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
