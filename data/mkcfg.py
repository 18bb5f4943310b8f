#!/usr/bin/env python3
"""mkcfg.py: writes hwi's network .cfg files (data/pcb-*.cfg).

    python3 data/mkcfg.py data

Every network is a backbone followed by the PCB ring head of the method
(DESIGN.md, "The method"; man/hwi-nn.5): the last feature map is cut into
4 vertical strips (column bands, as the original's x[:, :, :, i*w:(i+1)*w]);
each strip: GeM (p = 3.74) -> BN -> dropout 0.3 -> linear(D) -> ELU -> BN,
a ring loss, and its own classifier (dropout 0.5 -> linear -> softmax);
a fifth classifier on the detached concatenation of the 4 strip features,
whose L2-normalised copy is the retrieval embedding.

Backbones in Darknet's layer vocabulary (convolution then BN then
activation; Darknet has no pre-activation layers):
  vgg16bn      torchvision vgg16_bn.features (13 conv3x3-BN-ReLU, 5 maxpools)
  resnet50     bottlenecks [3, 4, 6, 3], stride on the 3x3 convolution
               (torchvision's v1.5); projection shortcuts are a 1x1
               convolution after a stride-2 subsampling [maxpool] size=1,
               which equals torchvision's 1x1 stride-2 convolution
  densenet121  growth 32, blocks [6, 12, 24, 16], bottleneck 4x32;
               conv-BN-ReLU order, 2x2 max pooling in the transitions
               (Darknet's [avgpool] is global only)
  tiny, small  small residual networks with the same head, for tests and
               the demo on a CPU

and four variants of pcb-small for the ablation table (data/ablation.mk),
each changing one thing in the head: pcb-small-arcface (ArcFace margin
heads in place of the linear classifiers), pcb-small-center (center loss
in place of ring loss), pcb-small-avg (average pooling, GeM with p = 1),
pcb-small-1strip (one strip, the whole map, in place of four); and one
that changes the input instead: pcb-small-eq (every input plane
histogram-equalised, [net] equalize=1).
"""
import os
import sys


class Net:
    def __init__(self, w, h, c, batch, lr=0.01, extra=""):
        self.lines = [
            "[net]",
            f"batch={batch}",
            f"width={w}",
            f"height={h}",
            f"channels={c}",
            f"learning_rate={lr}",
            "momentum=0.9",
            "decay=0.0005",
        ]
        if extra:
            self.lines.append(extra)
        self.n = 0  # layers so far; the next layer's index

    def add(self, section, **keys):
        self.lines.append("")
        self.lines.append(f"[{section}]")
        for k, v in keys.items():
            self.lines.append(f"{k}={v}")
        self.n += 1
        return self.n - 1

    def comment(self, text):
        self.lines.append("")
        self.lines.append(f"# {text}")

    def conv(self, filters, size=3, stride=1, act="relu", bn=1):
        return self.add("convolutional", batch_normalize=bn, filters=filters, size=size,
                        stride=stride, pad=1 if size > 1 else 0, activation=act)

    def text(self, header):
        return header + "\n".join(self.lines) + "\n"


def pcb_head(net, last, feat, strips=4, p=3.74, loss="ring", classifier="linear"):
    """The PCB ring head on the map of layer LAST: STRIPS strips, GeM with
    exponent P (1: average pooling), LOSS ring or center on each strip's
    feature, CLASSIFIER linear ([connected]) or arcface before each softmax."""
    net.comment(f"PCB ring head: {strips} vertical strip{'s' if strips > 1 else ''} of layer {last}")

    def classify():
        net.add("dropout", probability=0.5)
        if classifier == "arcface":
            net.add("arcface", s=ARCFACE_S, m=ARCFACE_M)
        else:
            net.add("connected", output="classes", activation="linear")
        net.add("softmax")

    feats = []
    for k in range(strips):
        net.comment(f"strip {k}")
        net.add("gem", **{"from": last, "strips": strips, "strip": k, "p": p})
        net.add("batchnorm")
        net.add("dropout", probability=0.3)
        net.add("connected", output=feat, activation="elu")
        feats.append(net.add("batchnorm"))
        if loss == "center":
            net.add("center", weight=0.5, rate=0.5)
        else:
            net.add("ring", **{"lambda": 0.01, "radius": 1.5})
        classify()
    net.comment("fifth classifier on the detached concatenation; its L2-normalised"
                " copy is the embedding")
    net.add("route", layers=",".join(map(str, feats)), detach=1)
    net.add("l2norm", embedding=1)
    net.add("route", layers=-2)
    classify()


# ArcFace's scale and margin in the arcface variant: the margin of the paper
# (0.5 rad); a scale of 16, not the paper's 64 for 85k identities, as
# AdaCos (Zhang et al. 2019) puts a fixed scale near sqrt(2) ln(C - 1),
# about 9 for the demo's few hundred whales.  Five heads' logits are summed,
# so a smaller scale also keeps softmax(c * logits) within the multiplier
# grid that hwi-fuse fits.
ARCFACE_S = 16
ARCFACE_M = 0.5


def vgg16bn(net):
    for width, n in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        net.comment(f"VGG block: {n} x conv3x3 {width}")
        for _ in range(n):
            net.conv(width)
        last = net.add("maxpool", size=2, stride=2)
    return last


def bottleneck(net, width, stride, project):
    x = net.n - 1
    net.conv(width, 1)
    net.conv(width, 3, stride)
    main = net.conv(4 * width, 1, act="linear")
    if project:
        net.add("route", layers=x)
        if stride > 1:
            net.add("maxpool", size=1, stride=stride, padding=0)
        net.conv(4 * width, 1, act="linear")
        return net.add("shortcut", **{"from": main, "activation": "relu"})
    return net.add("shortcut", **{"from": x, "activation": "relu"})


def resnet50(net):
    net.comment("stem")
    net.conv(64, 7, 2)
    last = net.add("maxpool", size=3, stride=2)
    for stage, (width, blocks) in enumerate(((64, 3), (128, 4), (256, 6), (512, 3))):
        net.comment(f"stage {stage + 1}: {blocks} bottlenecks of width {width}")
        for b in range(blocks):
            last = bottleneck(net, width, 2 if b == 0 and stage > 0 else 1, b == 0)
    return last


def densenet121(net):
    net.comment("stem")
    net.conv(64, 7, 2)
    net.add("maxpool", size=3, stride=2)
    channels = 64
    for block, layers in enumerate((6, 12, 24, 16)):
        net.comment(f"dense block {block + 1}: {layers} layers")
        for _ in range(layers):
            net.conv(128, 1)
            net.conv(32, 3)
            last = net.add("route", layers="-3,-1")
            channels += 32
        if block < 3:
            net.comment(f"transition {block + 1}")
            channels //= 2
            net.conv(channels, 1)
            last = net.add("maxpool", size=2, stride=2)
    return last


def small_resnet(net, widths):
    """conv stem, then per width: a stride-2 3x3 convolution and one basic
    residual block; the first block has a 1x1 bottleneck so that the
    network has 1x1 convolutions feeding shortcuts (darknet-notes P1)."""
    net.comment("stem")
    net.conv(widths[0], 3)
    for i, w in enumerate(widths):
        net.comment(f"stage {i + 1}: width {w}")
        x = net.conv(w, 3, 2)
        if i == 0:
            net.conv(w, 1)
        else:
            net.conv(w, 3)
        net.conv(w, 3, act="linear")
        last = net.add("shortcut", **{"from": x, "activation": "relu"})
    return last


HEADER = """# {name}: {what}
# Written by data/mkcfg.py; sections and keys: hwi-nn(5).
# output=classes takes the class count from hwi-train or the weights file.
"""


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    nets = {
        "pcb-vgg16bn": ("VGG16-BN with the PCB ring head, 384x384 grayscale",
                        lambda n: vgg16bn(n), 384, 512, 32),
        "pcb-resnet50": ("ResNet50 with the PCB ring head, 384x384 grayscale",
                         lambda n: resnet50(n), 384, 512, 32),
        "pcb-densenet121": ("DenseNet121 with the PCB ring head, 384x384 grayscale",
                            lambda n: densenet121(n), 384, 512, 32),
        "pcb-small": ("a small residual network with the PCB ring head, 128x128"
                      " grayscale, for the demo on a CPU",
                      lambda n: small_resnet(n, (16, 32, 64, 128)), 128, 128, 32),
        "pcb-tiny": ("a tiny residual network with the PCB ring head, 64x64"
                     " grayscale, for tests",
                     lambda n: small_resnet(n, (8, 16, 32)), 64, 16, 8),
    }
    # the ablation's variants of pcb-small (data/ablation.mk): one change
    # to its head each
    variants = {
        "pcb-small-arcface": ("pcb-small", "ArcFace heads (s=%g, m=%g) in place of the"
                              " five linear classifiers" % (ARCFACE_S, ARCFACE_M),
                              dict(classifier="arcface")),
        "pcb-small-center": ("pcb-small", "center loss (weight 0.5) in place of the ring"
                             " loss", dict(loss="center")),
        "pcb-small-avg": ("pcb-small", "average pooling (GeM p=1) in place of GeM"
                          " p=3.74", dict(p=1)),
        "pcb-small-1strip": ("pcb-small", "one strip (the whole map) in place of four",
                             dict(strips=1)),
        "pcb-small-eq": ("pcb-small", "every input histogram-equalised ([net]"
                         " equalize=1)", dict(equalize=1)),
    }
    todo = [(name, what, spec, {}) for name, (what, *spec) in nets.items()]
    for name, (base, change, head) in variants.items():
        what = f"{nets[base][0]}; ablation variant: {change}"
        todo.append((name, what, nets[base][1:], head))
    for name, what, (backbone, size, feat, batch), head in todo:
        head = dict(head)
        net = Net(size, size, 1, batch,
                  extra="equalize=1" if head.pop("equalize", 0) else "")
        last = backbone(net)
        pcb_head(net, last, feat, **head)
        with open(os.path.join(out, name + ".cfg"), "w") as f:
            f.write(net.text(HEADER.format(name=name, what=what)))


if __name__ == "__main__":
    main()
