//! Which burn device runs the work, chosen on the command line.

use astute::burn::prelude::Device;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// The flex CPU backend (all cores, SIMD).
    Cpu,
    /// The first CUDA GPU (build with `--features cuda`).
    Cuda,
    /// The default wgpu adapter: Vulkan, Metal or DirectX (build with `--features wgpu`).
    Wgpu,
}

impl Backend {
    pub fn device(self) -> anyhow::Result<Device> {
        match self {
            #[cfg(feature = "flex")]
            Backend::Cpu => Ok(Device::flex()),
            #[cfg(feature = "cuda")]
            Backend::Cuda => Ok(Device::cuda(0)),
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => Ok(Device::wgpu(Default::default())),
            #[allow(unreachable_patterns)]
            other => anyhow::bail!(
                "this astute was built without the {other:?} backend; rebuild with --features {}",
                other.feature()
            ),
        }
    }

    /// The backend's name, as the command line takes it and provenance records it.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Cpu => "cpu",
            Backend::Cuda => "cuda",
            Backend::Wgpu => "wgpu",
        }
    }

    fn feature(self) -> &'static str {
        match self {
            Backend::Cpu => "flex",
            Backend::Cuda => "cuda",
            Backend::Wgpu => "wgpu",
        }
    }
}
