# Astute for a GPU server: the web app and `astute` built with the `cuda` feature, on a
# CUDA runtime image. The build steps are the commands README and CI run.
#   docker build -t astute .
#   docker run --gpus all -p 8080:8080 -v astute-data:/var/lib/astute astute
# Datasets go into the volume's `datasets/` folder (or mount one at /usr/share/datasets); the
# MNIST sample Astute ships is in the image.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# rust-toolchain.toml names the toolchain; the web app needs its wasm target.
RUN rustup target add wasm32-unknown-unknown
RUN cargo xtask site --out /out/site
# burn-cuda's build script fetches its LLVM here: the build needs network access.
RUN cargo build --release -p astute-server --features cuda \
 && cp target/release/astute /out/astute

FROM nvidia/cuda:12.6.3-runtime-ubuntu24.04
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /var/lib/astute astute
COPY --from=build /out/astute /usr/local/bin/astute
COPY --from=build /out/site /usr/share/astute/site
COPY --from=build /src/data /usr/share/astute/data
ENV ASTUTE_SITE_DIR=/usr/share/astute/site \
    ASTUTE_STATE_DIR=/var/lib/astute \
    ASTUTE_DATA_DIR=/var/lib/astute/datasets:/usr/share/astute/data
VOLUME /var/lib/astute
USER astute
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD curl -fsS http://127.0.0.1:8080/api/health || exit 1
ENTRYPOINT ["astute"]
CMD ["serve", "--addr", "0.0.0.0:8080", "--backend", "cuda"]
