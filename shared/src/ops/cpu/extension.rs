//! Astute's kernels as a burn backend extension: the forward passes on burn's CPU backend
//! (flex), and on its autodiff wrapper backward passes of their own. burn's would compute a
//! convolution's input gradient through a transposed 3-D convolution and its weight
//! gradient through a convolution of the swapped batch, and pool with a generic 3-D loop.

use std::borrow::Cow;
use std::sync::Arc;

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::ConvOptions;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Flex, TensorMetadata, backend_extension};
use burn::tensor::TensorData;

use super::conv::{self, ConvShape};
use super::pool::{self, PoolShape};
use crate::ops::{Pass, count};

#[backend_extension(Autodiff, Flex)]
pub trait CpuKernels: Backend {
    /// A 2-D convolution (one group, no dilation), through a ReLU when `relu`. A
    /// convolution without bias passes zeros: burn's extension macro does not route
    /// optional tensors.
    fn astute_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
        relu: bool,
    ) -> FloatTensor<Self>;

    /// Max pooling over non-overlapping windows (stride = kernel), without padding.
    fn astute_max_pool2d(x: FloatTensor<Self>, kernel: [usize; 2]) -> FloatTensor<Self>;
}

impl CpuKernels for Flex {
    fn astute_conv2d(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        options: ConvOptions<2>,
        relu: bool,
    ) -> FlexTensor {
        let shape = conv_shape(&x, &weight, &options);
        count(Pass::Forward);
        let y = conv::forward(
            &values(&x),
            &values(&weight),
            Some(&values(&bias)),
            relu,
            &shape,
        );
        let out = [shape.filters, shape.out_height(), shape.out_width()];
        tensor(y, [shape.batch, out[0], out[1], out[2]])
    }

    fn astute_max_pool2d(x: FlexTensor, kernel: [usize; 2]) -> FlexTensor {
        max_pool(&x, kernel).0
    }
}

impl<C: CheckpointStrategy> CpuKernels for Autodiff<Flex, C> {
    fn astute_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
        relu: bool,
    ) -> FloatTensor<Self> {
        let output = Flex::astute_conv2d(
            x.primitive().clone(),
            weight.primitive().clone(),
            bias.primitive().clone(),
            options.clone(),
            relu,
        );
        match ConvBackward
            .prepare::<C>([x.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let state = ConvState {
                    x: prep.checkpoint(&x),
                    weight: prep.checkpoint(&weight),
                    options,
                    relu_output: relu.then(|| output.clone()),
                };
                prep.finish(state, output)
            }
            OpsKind::UnTracked(prep) => prep.finish(output),
        }
    }

    fn astute_max_pool2d(x: FloatTensor<Self>, kernel: [usize; 2]) -> FloatTensor<Self> {
        let (output, picks, shape) = max_pool(x.primitive(), kernel);
        match PoolBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((picks.into(), shape), output),
            OpsKind::UnTracked(prep) => prep.finish(output),
        }
    }
}

/// What a convolution's backward keeps of its forward.
#[derive(Debug, Clone)]
struct ConvState {
    x: NodeId,
    weight: NodeId,
    options: ConvOptions<2>,
    /// The output of a fused ReLU, whose sign masks the incoming gradient.
    relu_output: Option<FlexTensor>,
}

#[derive(Debug)]
struct ConvBackward;

impl Backward<Flex, 3> for ConvBackward {
    type State = ConvState;

    /// Registers the gradients of the inputs that need one: a frozen model (an attack)
    /// asks for the input's alone, and no weight gradient is computed.
    fn backward(self, ops: Ops<ConvState, 3>, grads: &mut Gradients, saved: &mut Checkpointer) {
        let [x_node, weight_node, bias_node] =
            ops.parents.each_ref().map(|p| p.as_ref().map(|n| n.id));
        let output_grad = grads.consume::<Flex>(&ops.node);
        let state = ops.state;
        let x: FlexTensor = saved.retrieve_node_output(state.x);
        let weight: FlexTensor = saved.retrieve_node_output(state.weight);
        let shape = conv_shape(&x, &weight, &state.options);
        let needed = conv::Needed {
            input: x_node.is_some(),
            weight: weight_node.is_some(),
            bias: bias_node.is_some(),
        };
        if needed.input {
            count(Pass::InputGradient);
        }
        if needed.weight {
            count(Pass::WeightGradient);
        }
        let relu_output = state.relu_output.as_ref().map(values);
        let gradients = conv::backward(
            &values(&x),
            &values(&weight),
            &values(&output_grad),
            relu_output.as_deref(),
            needed,
            &shape,
        );
        let registrations = [
            (x_node, gradients.input, x.shape()),
            (weight_node, gradients.weight, weight.shape()),
            (bias_node, gradients.bias, [shape.filters].into()),
        ];
        for (node, gradient, dims) in registrations {
            if let (Some(node), Some(gradient)) = (node, gradient) {
                grads
                    .register::<Flex>(node, FlexTensor::from_data(TensorData::new(gradient, dims)));
            }
        }
    }
}

#[derive(Debug)]
struct PoolBackward;

impl Backward<Flex, 1> for PoolBackward {
    /// Which value of its window each output took, and the shape.
    type State = (Arc<[u8]>, PoolShape);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let output_grad = grads.consume::<Flex>(&ops.node);
        if let [Some(x)] = &ops.parents {
            let (picks, shape) = &ops.state;
            let dx = pool::max_pool_backward(picks, &values(&output_grad), shape);
            let dims = [shape.batch, shape.channels, shape.height, shape.width];
            grads.register::<Flex>(x.id, tensor(dx, dims));
        }
    }
}

/// The pooled tensor, the pick of each window and the shape.
fn max_pool(x: &FlexTensor, kernel: [usize; 2]) -> (FlexTensor, Vec<u8>, PoolShape) {
    let [batch, channels, height, width] = x.shape().dims::<4>();
    let shape = PoolShape {
        batch,
        channels,
        height,
        width,
        kernel,
    };
    let (y, picks) = pool::max_pool(&values(x), &shape);
    let out = [shape.out_height(), shape.out_width()];
    (tensor(y, [batch, channels, out[0], out[1]]), picks, shape)
}

fn conv_shape(x: &FlexTensor, weight: &FlexTensor, options: &ConvOptions<2>) -> ConvShape {
    let [batch, channels, height, width] = x.shape().dims::<4>();
    let [filters, _, kh, kw] = weight.shape().dims::<4>();
    ConvShape {
        batch,
        channels,
        height,
        width,
        filters,
        kernel: [kh, kw],
        stride: options.stride,
        padding: options.padding,
    }
}

/// A tensor's f32 values in row-major order, borrowed when they already are.
fn values(tensor: &FlexTensor) -> Cow<'_, [f32]> {
    match tensor.as_slice::<f32>() {
        Some(values) => Cow::Borrowed(values),
        None => Cow::Owned(
            tensor
                .to_contiguous()
                .into_data()
                .try_into_vec::<f32>()
                .expect("only f32 tensors are sent to Astute's kernels"),
        ),
    }
}

fn tensor<const D: usize>(values: Vec<f32>, shape: [usize; D]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}
