#!/usr/bin/env python3
"""Cross-check of `astute eval --attack` against torchattacks and against AutoAttack's reference
implementation (Croce & Hein's own code, on PyPI as `pyautoattack`): the same weights, the same
test images, the same radius, each attack with its accuracy and time.

torchattacks' `AutoAttack(version='standard')` is not the reference's standard version: it
keeps its classes' defaults of 10 iterations for APGD-CE, APGD-T and FAB-T (the reference runs
100) and rescales Square's schedule. `standard` here is torchattacks' composition as it ships;
`reference` is the reference's standard version (what `astute eval --attack autoattack` runs),
with the time of each component.

  python3 torchattacks_reference.py WEIGHTS.safetensors --data /usr/share/datasets/fashion-mnist \
      --n 1000 --eps 0.1 --threads 2

Compare with
  astute eval -d fashion-mnist WEIGHTS.safetensors --test-images 1000 \
      --attack apgd-ce,apgd-t,autoattack

WEIGHTS must be a CNN2 written by Astute (its tensors carry PyTorch's nn.Sequential names).
needs: pip install torch torchattacks safetensors pyautoattack==0.2.0
"""
import argparse, gzip, logging, struct, sys, time
from pathlib import Path

import torch
import torchattacks
from safetensors.torch import load_file
from torch_reference import cnn2


def idx(path):
    """An IDX file (gzipped or not) as a tensor of its element type."""
    raw = gzip.open(path).read() if path.suffix == '.gz' else path.read_bytes()
    dims = raw[3]
    shape = struct.unpack('>' + 'I' * dims, raw[4:4 + 4 * dims])
    return torch.frombuffer(bytearray(raw[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def find(folder, stem):
    for name in (stem, stem + '.gz'):
        if (folder / name).exists():
            return folder / name
    raise SystemExit(f'{stem}[.gz] not found in {folder}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('weights')
    ap.add_argument('--data', default='/usr/share/datasets/fashion-mnist')
    ap.add_argument('--n', type=int, default=1000)
    ap.add_argument('--eps', type=float, default=0.1)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--only', default='apgd-ce,apgd-t,ce+t+square,standard,reference',
                    help='comma-separated attacks to run (reference is the slowest)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)

    folder = Path(a.data)
    x = idx(find(folder, 't10k-images-idx3-ubyte'))[:a.n].float().div(255).unsqueeze(1)
    y = idx(find(folder, 't10k-labels-idx1-ubyte'))[:a.n].long()
    model = cnn2()
    model.load_state_dict(load_file(a.weights))
    model.eval()
    print(f'torch {torch.__version__} torchattacks {torchattacks.__version__} threads={torch.get_num_threads()} '
          f'images={a.n} eps={a.eps}')

    def accuracy(images):
        with torch.no_grad():
            return 100.0 * sum((model(images[i:i + 500]).argmax(1) == y[i:i + 500]).sum().item()
                               for i in range(0, a.n, 500)) / a.n

    print(f'{"clean":<12} {accuracy(x):8.2f} %')
    ce = torchattacks.APGD(model, eps=a.eps, steps=100, n_restarts=1, loss='ce', seed=a.seed)
    t = torchattacks.APGDT(model, eps=a.eps, steps=100, n_restarts=1, n_classes=10, seed=a.seed)
    square = torchattacks.Square(model, eps=a.eps, n_queries=5000, n_restarts=1, p_init=0.8, seed=a.seed)
    fab = torchattacks.FAB(model, eps=a.eps, multi_targeted=True, n_classes=10, n_restarts=1, seed=a.seed)
    attacks = {'apgd-ce': ce, 'apgd-t': t, 'fab-t': fab, 'square': square,
               'ce+t+square': torchattacks.MultiAttack([ce, t, square]),
               'standard': torchattacks.AutoAttack(model, eps=a.eps, version='standard', n_classes=10,
                                                   seed=a.seed)}
    for name in a.only.split(','):
        if name == 'reference':
            reference(model, x, y, a, accuracy)
            continue
        if name not in attacks:
            raise SystemExit(f"unknown attack '{name}': choose from {', '.join(attacks)}")
        attack = attacks[name]
        started = time.perf_counter()
        adversarial = torch.cat([attack(x[i:i + 250], y[i:i + 250]) for i in range(0, a.n, 250)])
        seconds = time.perf_counter() - started
        print(f'{name:<12} {accuracy(adversarial):8.2f} % {seconds:9.1f} s')


def reference(model, x, y, a, accuracy):
    """The reference implementation's standard version, its log (each component's cumulative
    time) on standard error."""
    from pyautoattack import AutoAttack
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG, format='  %(message)s')
    attack = AutoAttack(model, eps=a.eps, norm='Linf', seed=a.seed, version='standard', device='cpu')
    started = time.perf_counter()
    adversarial, _ = attack.run_standard_evaluation(x, y, batch_size=250)
    seconds = time.perf_counter() - started
    print(f'{"reference":<12} {accuracy(adversarial):8.2f} % {seconds:9.1f} s')


if __name__ == '__main__':
    main()
