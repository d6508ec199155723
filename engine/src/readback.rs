//! Reading tensors back to the host. WebGPU in a browser cannot block, so every read
//! is awaited; on the CPU the future is ready at once.

use astute::burn::prelude::*;
use astute::burn::tensor::kind::Basic;

use crate::LabError;

pub async fn floats<const D: usize, K>(tensor: Tensor<D, K>) -> Result<Vec<f32>, LabError>
where
    K: Basic,
{
    tensor
        .into_data_async()
        .await
        .map_err(|e| LabError(format!("reading a result from the device failed: {e:?}")))?
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| LabError(format!("unexpected result type: {e:?}")))
}
