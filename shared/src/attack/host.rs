//! Tensors read back to the host, for the attacks whose search runs there (Square, FAB-T)
//! and for the record of which points are still robust. Native backends only: a browser
//! reads asynchronously (see the engine's `readback`).

use burn::prelude::*;

pub fn floats<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_to_vec()
        .unwrap_or_default()
}

pub fn ints(tensor: Tensor<1, Int>) -> Vec<i64> {
    tensor
        .into_data()
        .convert::<i64>()
        .try_to_vec()
        .unwrap_or_default()
}

pub fn bools(mask: Tensor<1, Bool>) -> Vec<bool> {
    mask.into_data().try_to_vec().unwrap_or_default()
}
