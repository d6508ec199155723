#!/usr/bin/env python3
"""Interop example: load CNN2 weights written by `astute train --out` into PyTorch.

Astute writes CNN1/CNN2 with the tensor names and layouts of the equivalent PyTorch
nn.Sequential, so `load_state_dict` takes the file as it is. This script builds the CNN2
of the paper (the TRADES small CNN), loads the weights, runs the first Fashion-MNIST test
images, and compares the logits with `astute predict` on the same images.

usage: python3 docs/pytorch_interop.py WEIGHTS.safetensors [--count N] [--astute PATH]
needs: pip install torch
"""
import argparse, gzip, json, struct, subprocess
import torch, torch.nn as nn

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64}


def cnn2(classes=10):
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 4 * 4, 200), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(200, 200), nn.ReLU(), nn.Linear(200, classes))


def read_safetensors(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        t = torch.frombuffer(bytearray(body[begin:end]), dtype=DTYPES[entry["dtype"]])
        tensors[name] = t.reshape(entry["shape"]).float()
    return tensors, header.get("__metadata__", {})


def fashion_test_images(count, path="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"):
    raw = gzip.open(path).read()
    _, n, rows, cols = struct.unpack(">IIII", raw[:16])
    pixels = torch.frombuffer(bytearray(raw[16:16 + count * rows * cols]), dtype=torch.uint8)
    return pixels.reshape(count, 1, rows, cols).float() / 255.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("weights")
    ap.add_argument("--count", type=int, default=64)
    ap.add_argument("--astute", default="target/release/astute")
    a = ap.parse_args()
    tensors, metadata = read_safetensors(a.weights)
    model = cnn2(int(metadata.get("astute.classes", 10))).eval()
    model.load_state_dict(tensors)
    with torch.no_grad():
        torch_logits = model(fashion_test_images(a.count))
    out = subprocess.run([a.astute, "predict", a.weights, "--dataset", "fashion-mnist", "--count", str(a.count)],
                         check=True, capture_output=True, text=True).stdout
    astute_logits = torch.tensor(json.loads(out))
    diff = (torch_logits - astute_logits).abs().max().item()
    agree = (torch_logits.argmax(1) == astute_logits.argmax(1)).float().mean().item()
    print(f"{a.count} images: max |logit difference| = {diff:.2e}, same prediction on {100 * agree:.1f}%")
    if diff > 1e-4:
        raise SystemExit("logits differ by more than 1e-4")


if __name__ == "__main__":
    main()
