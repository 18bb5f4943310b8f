#!/usr/bin/python3
"""nn-speed.py: PyTorch twin of bench/nn-speed.cfg, timed on the CPU.

Part of bench/nn-speed (run that script).  Builds the same ResNet-18-style
network as bench/nn-speed.cfg (basic blocks [2,2,2,2], widths 64-128-256-512,
projection shortcuts, 1x128x128 input, global average pooling standing in
for GeM, Linear 512, L2 normalisation), then times inference (eval mode,
no_grad) and training steps (SGD, momentum 0.9, loss summed squares against
zero as Darknet's [cost] layer) on a random batch.  Prints, per memory
format, images per second of wall-clock time and of process CPU time:
    pytorch-FORMAT inference IMG_PER_S IMG_PER_CPU_S
    pytorch-FORMAT training IMG_PER_S IMG_PER_CPU_S
"""
import argparse
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.proj = None
        if stride != 1 or cin != cout:
            self.proj = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False),
                                      nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        return F.relu(y + (self.proj(x) if self.proj is not None else x))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 64, 7, 2, 3, bias=False),
                                  nn.BatchNorm2d(64), nn.ReLU(),
                                  nn.MaxPool2d(3, 2, 1))
        layers, cin = [], 64
        for i, width in enumerate([64, 128, 256, 512]):
            for j in range(2):
                layers.append(Block(cin, width, 2 if i > 0 and j == 0 else 1))
                cin = width
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(512, 512)

    def forward(self, x):
        x = self.body(self.stem(x))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return F.normalize(self.fc(x), dim=1)


def measure(model, x, train, warmup, iters):
    opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9, weight_decay=0.0005)
    model.train(train)
    t0 = c0 = 0.0
    for i in range(warmup + iters):
        if i == warmup:
            t0 = time.perf_counter()
            c0 = time.process_time()
        if train:
            opt.zero_grad()
            loss = model(x).pow(2).sum()
            loss.backward()
            opt.step()
        else:
            with torch.no_grad():
                model(x)
    images = iters * x.shape[0]
    return images / (time.perf_counter() - t0), images / (time.process_time() - c0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    for fmt, mf in (("contiguous", torch.contiguous_format),
                    ("channels_last", torch.channels_last)):
        model = Net().to(memory_format=mf)
        x = torch.rand(args.batch, 1, 128, 128).to(memory_format=mf)
        for train, what in ((False, "inference"), (True, "training")):
            wall, cpu = measure(model, x, train, 1, args.iterations)
            print(f"pytorch-{fmt} {what} {wall:.3f} {cpu:.3f}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
