//! Safetensors weights: round trip, PyTorch names and layouts, and no panic on bad bytes.

mod common;

use astute::burn::prelude::*;
use astute::burn::tensor::{Distribution, TensorData};
use astute::data::ImageShape;
use astute::model::{Architecture, Classifier, Network, NetworkConfig};
use astute::weights::{Precision, from_bytes, read_header, to_bytes};
use common::cpu;
use proptest::prelude::*;

fn config(architecture: Architecture) -> NetworkConfig {
    NetworkConfig {
        architecture,
        input: ImageShape::new(1, 28, 28),
        classes: 10,
        dropout: 0.5,
    }
}

fn cnn2_bytes() -> Vec<u8> {
    let device = cpu();
    device.seed(1);
    let model = config(Architecture::Cnn2).init(&device).unwrap();
    to_bytes(&model, &config(Architecture::Cnn2), Precision::Full).unwrap()
}

/// Two networks' logits on the same random 28 × 28 images.
fn logits_of_both(
    a: &Network,
    b: &Network,
    images: usize,
    device: &Device,
) -> (Vec<f32>, Vec<f32>) {
    let x = Tensor::<4>::random([images, 1, 28, 28], Distribution::Uniform(0.0, 1.0), device);
    let run = |m: &Network| {
        m.forward(x.clone())
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    };
    (run(a), run(b))
}

#[test]
fn weights_round_trip_to_the_same_logits() {
    for arch in [
        Architecture::Cnn1,
        Architecture::Cnn2,
        Architecture::Mlp {
            layers: 2,
            width: 16,
        },
        Architecture::Wrn {
            depth: 10,
            width: 1,
        },
    ] {
        let device = cpu();
        device.seed(3);
        let model = config(arch).init(&device).unwrap();
        let bytes = to_bytes(&model, &config(arch), Precision::Full).unwrap();
        let (loaded, loaded_config) = from_bytes(bytes, None, &device).unwrap();
        assert_eq!(loaded_config, config(arch));
        let (a, b) = logits_of_both(&model, &loaded, 3, &device);
        assert_eq!(a, b, "{arch}");
    }
}

/// Half precision stores every float in 2 bytes, rounded to the nearest f16: the file
/// halves, the network it loads into computes in f32, and its weights are the originals
/// rounded (checked against the rounding done by hand on one weight).
#[test]
fn half_precision_halves_the_file_and_rounds_each_weight() {
    let device = cpu();
    device.seed(5);
    let arch = Architecture::Cnn2;
    let model = config(arch).init(&device).unwrap();
    let full = to_bytes(&model, &config(arch), Precision::Full).unwrap();
    let half = to_bytes(&model, &config(arch), Precision::Half).unwrap();
    assert_eq!(Precision::of(&full).unwrap(), Precision::Full);
    assert_eq!(Precision::of(&half).unwrap(), Precision::Half);
    let header = |bytes: &[u8]| u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    assert_eq!(
        half.len() - 8 - header(&half),
        (full.len() - 8 - header(&full)) / 2
    );

    let (loaded, _) = from_bytes(half.clone(), None, &device).unwrap();
    // A tensor's stored bytes.
    let tensor = |bytes: &[u8], name: &str| {
        let h = header(bytes);
        let json: serde_json::Value = serde_json::from_slice(&bytes[8..8 + h]).unwrap();
        let [begin, end] = [0, 1].map(|k| json[name]["data_offsets"][k].as_u64().unwrap() as usize);
        bytes[8 + h + begin..8 + h + end].to_vec()
    };
    // The first weight of `16.weight` by hand: f32 → the nearest f16.
    let first_f32 =
        |bytes: &[u8]| f32::from_le_bytes(tensor(bytes, "16.weight")[..4].try_into().unwrap());
    let original = first_f32(&full);
    let rounded = f16_to_f32(u16::from_le_bytes(
        tensor(&half, "16.weight")[..2].try_into().unwrap(),
    ));
    assert!((rounded - original).abs() <= original.abs() * 2f32.powi(-11) + 2f32.powi(-24));
    let again = to_bytes(&loaded, &config(arch), Precision::Full).unwrap();
    assert_eq!(
        first_f32(&again),
        rounded,
        "the network holds the rounded weight, in f32"
    );
    // Rounding twice is rounding once.
    let twice = to_bytes(&loaded, &config(arch), Precision::Half).unwrap();
    for name in [
        "0.weight",
        "0.bias",
        "7.weight",
        "11.weight",
        "16.weight",
        "16.bias",
    ] {
        assert!(
            tensor(&twice, name) == tensor(&half, name),
            "{name} changed"
        );
    }

    let (a, b) = logits_of_both(&model, &loaded, 4, &device);
    let scale = a.iter().fold(0f32, |m, v| m.max(v.abs()));
    let worst = a
        .iter()
        .zip(&b)
        .fold(0f32, |m, (p, q)| m.max((p - q).abs()));
    assert!(
        worst > 0.0 && worst < 1e-2 * scale,
        "logits moved by {worst} of {scale}"
    );
}

/// IEEE 754 binary16 to f32, written out (normal and subnormal numbers).
fn f16_to_f32(bits: u16) -> f32 {
    let sign = if bits >> 15 == 1 { -1.0 } else { 1.0 };
    let exponent = i32::from((bits >> 10) & 0x1f);
    let mantissa = f32::from(bits & 0x3ff);
    match exponent {
        0 => sign * mantissa * 2f32.powi(-24),
        _ => sign * (1.0 + mantissa / 1024.0) * 2f32.powi(exponent - 15),
    }
}

#[test]
fn cnn2_uses_pytorch_sequential_names_and_layouts() {
    let bytes = cnn2_bytes();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
    let shape = |k: &str| {
        header[k]["shape"]
            .as_array()
            .unwrap_or_else(|| panic!("no tensor {k}: {header}"))
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(shape("0.weight"), [32, 1, 3, 3]);
    assert_eq!(shape("7.weight"), [64, 64, 3, 3]);
    // nn.Linear keeps [out, in].
    assert_eq!(shape("11.weight"), [200, 1024]);
    assert_eq!(shape("14.weight"), [200, 200]);
    assert_eq!(shape("16.weight"), [10, 200]);
    assert_eq!(shape("16.bias"), [10]);
    let tensors = header
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| *k != "__metadata__")
        .count();
    assert_eq!(tensors, 14);
}

#[test]
fn a_pytorch_file_without_metadata_loads_with_an_explicit_architecture() {
    let stripped = rewrite_header(cnn2_bytes_cached(), |header| {
        header.as_object_mut().unwrap().remove("__metadata__");
    });
    let device = cpu();
    let err = from_bytes(stripped.clone(), None, &device).err().unwrap();
    assert!(
        err.to_string().contains("does not say which network"),
        "{err}"
    );
    let (model, _) = from_bytes(stripped, Some(config(Architecture::Cnn2)), &device).unwrap();
    let x = Tensor::<4>::from_data(TensorData::new(vec![0.5f32; 784], [1, 1, 28, 28]), &device);
    let (reference, _) = from_bytes(cnn2_bytes_cached().to_vec(), None, &device).unwrap();
    assert_eq!(
        model.forward(x.clone()).into_data(),
        reference.forward(x).into_data()
    );
}

#[test]
fn weights_for_another_network_are_refused() {
    let device = cpu();
    let bytes = cnn2_bytes();
    // Re-label the file as CNN1: the header stays valid, the shapes no longer fit.
    let relabelled = rewrite_header(&bytes, |header| {
        header["__metadata__"]["astute.architecture"] = "cnn1".into();
    });
    let err = match from_bytes(relabelled, None, &device) {
        Ok(_) => panic!("a CNN2 file loaded as CNN1"),
        Err(e) => e,
    };
    assert!(err.to_string().contains("do not fit"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = read_header(&bytes);
        let _ = from_bytes(bytes, Some(config(Architecture::Cnn2)), &cpu());
    }

    #[test]
    fn corrupted_weight_files_never_panic(cut in 0usize..2_400_000, flips in proptest::collection::vec((0usize..4096, any::<u8>()), 0..8)) {
        let mut bytes = cnn2_bytes_cached().to_vec();
        for (at, value) in flips {
            let i = at % bytes.len().min(4096);
            bytes[i] = value;
        }
        bytes.truncate(cut.min(bytes.len()));
        let _ = from_bytes(bytes, None, &cpu());
    }
}

/// The same file with its JSON header edited by `edit`.
fn rewrite_header(bytes: &[u8], edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
    edit(&mut header);
    let mut json = serde_json::to_vec(&header).unwrap();
    json.resize(json.len().div_ceil(8) * 8, b' ');
    let mut out = (json.len() as u64).to_le_bytes().to_vec();
    out.extend(json);
    out.extend_from_slice(&bytes[8 + header_len..]);
    out
}

fn cnn2_bytes_cached() -> &'static [u8] {
    static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BYTES.get_or_init(cnn2_bytes)
}
