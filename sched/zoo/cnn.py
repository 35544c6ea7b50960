"""The Dysta CNN benchmark models (and ResNet-18) as im2col GEMM layer lists.

Shapes follow the reference implementations; MAC counts are checked in
``tests/sched/test_zoo.py`` against the published figures cited in each ``register`` call.
Only convolutions and fully connected layers are listed (pooling, batch-norm and element-wise
layers carry no MACs and are not scheduled as separate layers, as in Dysta's CSVs). The first
convolution sees the image (dense); every other layer's input follows a ReLU and carries
dynamic activation sparsity (``act_sparse=True``).
"""

from __future__ import annotations

from ..model import Layer
from . import register
from ._layers import Tracker


@register("resnet50", family="cnn", engine="eyeriss_v2_like", input="224x224x3",
          published_macs=4.09e9,
          macs_source="torchvision ResNet50_Weights.IMAGENET1K_V1 model card: 4.09 GFLOPS "
                      "(multiply-adds); He et al. CVPR 2016 Table 1: 3.8e9 FLOPs (v1, stride "
                      "on the 1x1 conv; torchvision's v1.5 puts it on the 3x3)")
def resnet50() -> tuple[Layer, ...]:
    """ResNet-50 v1.5 (torchvision) at 224x224: 53 conv layers + fc, 4.09 GMACs."""
    t = Tracker.image(224, 224)
    t.conv("conv1", 64, 7, stride=2, pad=3, act_sparse=False)
    t.pool(3, 2, pad=1)
    for si, (blocks, width, stride) in enumerate(((3, 64, 1), (4, 128, 2), (6, 256, 2),
                                                  (3, 512, 2))):
        for b in range(blocks):
            s = stride if b == 0 else 1
            name = f"layer{si + 1}.{b}"
            if b == 0:
                t.conv(f"{name}.downsample", width * 4, 1, stride=s, pad=0, update=False)
            t.conv(f"{name}.conv1", width, 1, pad=0)
            t.conv(f"{name}.conv2", width, 3, stride=s)
            t.conv(f"{name}.conv3", width * 4, 1, pad=0)
    t.global_pool()
    t.fc("fc", 1000)
    return tuple(t.layers)


def _resnet18_backbone(t: Tracker, *, layer3_stride: int, stages: int) -> None:
    t.conv("conv1", 64, 7, stride=2, pad=3, act_sparse=False)
    t.pool(3, 2, pad=1)
    for si, (width, stride) in enumerate(((64, 1), (128, 2), (256, layer3_stride),
                                          (512, 2))[:stages]):
        for b in range(2):
            s = stride if b == 0 else 1
            name = f"layer{si + 1}.{b}"
            if b == 0 and (s != 1 or t.c != width):
                t.conv(f"{name}.downsample", width, 1, stride=s, pad=0, update=False)
            t.conv(f"{name}.conv1", width, 3, stride=s)
            t.conv(f"{name}.conv2", width, 3)


@register("resnet18", family="cnn", engine="eyeriss_v2_like", input="224x224x3",
          published_macs=1.81e9,
          macs_source="torchvision ResNet18_Weights.IMAGENET1K_V1 model card: 1.81 GFLOPS "
                      "(multiply-adds); He et al. CVPR 2016 Table 1: 1.8e9 FLOPs")
def resnet18() -> tuple[Layer, ...]:
    """ResNet-18 at 224x224 (the SSD300 backbone, checked on its own)."""
    t = Tracker.image(224, 224)
    _resnet18_backbone(t, layer3_stride=2, stages=4)
    t.global_pool()
    t.fc("fc", 1000)
    return tuple(t.layers)


_VGG16_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
              512, 512, 512, "M")


@register("vgg16", family="cnn", engine="eyeriss_v2_like", input="224x224x3",
          published_macs=15.47e9,
          macs_source="torchvision VGG16_Weights.IMAGENET1K_V1 model card: 15.47 GFLOPS "
                      "(multiply-adds); Simonyan & Zisserman ICLR 2015 configuration D")
def vgg16() -> tuple[Layer, ...]:
    """VGG-16 (configuration D) at 224x224: 13 conv + 3 fc layers, 15.47 GMACs."""
    t = Tracker.image(224, 224)
    i = 0
    for v in _VGG16_CFG:
        if v == "M":
            t.pool(2, 2)
        else:
            i += 1
            t.conv(f"conv{i}", v, 3, act_sparse=i > 1)
    t.fc("fc1", 4096)
    t.fc("fc2", 4096)
    t.fc("fc3", 1000)
    return tuple(t.layers)


_MOBILENET_V1_CFG = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1),
                     (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))


@register("mobilenetv1", family="cnn", engine="eyeriss_v2_like", input="224x224x3",
          published_macs=569e6,
          macs_source="Howard et al. 2017 (arXiv 1704.04861) Table 8: 1.0 MobileNet-224, "
                      "569 million mult-adds")
def mobilenetv1() -> tuple[Layer, ...]:
    """MobileNet-V1 1.0 at 224x224: 27 conv layers (13 depthwise) + fc, 569 M MACs."""
    t = Tracker.image(224, 224)
    t.conv("conv1", 32, 3, stride=2, act_sparse=False)
    for i, (c_out, stride) in enumerate(_MOBILENET_V1_CFG):
        t.conv(f"block{i + 1}.dw", t.c, 3, stride=stride, groups=t.c)
        t.conv(f"block{i + 1}.pw", c_out, 1, pad=0)
    t.global_pool()
    t.fc("fc", 1000)
    return tuple(t.layers)


# NVIDIA DeepLearningExamples PyTorch/Detection/SSD (SSD300 v1.1) with its ResNet-18 option:
# backbone up to conv4_x (layer3) with layer3's stride set to 1 (38x38 feature map), feature
# channels (256, 512, 512, 256, 256, 128), extra blocks of 1x1 then 3x3 convolutions with
# middle widths (256, 256, 128, 128, 128) (stride 2 for the first three, unpadded after),
# 3x3 heads with (4, 6, 6, 6, 4, 4) default boxes, 4 box coordinates and 81 COCO classes.
_SSD_CHANNELS = (256, 512, 512, 256, 256, 128)
_SSD_MIDDLE = (256, 256, 128, 128, 128)
_SSD_BOXES = (4, 6, 6, 6, 4, 4)
_SSD_CLASSES = 81


@register("ssd300", family="cnn", engine="eyeriss_v2_like", input="300x300x3",
          published_macs=None,
          macs_source="no published total for this variant; its ResNet-18 backbone is checked "
                      "as resnet18 against torchvision's 1.81 GMACs and the detector's six "
                      "feature maps (38, 19, 10, 5, 3, 1) against NVIDIA's SSD300 README")
def ssd300() -> tuple[Layer, ...]:
    """SSD300 with a ResNet-18 backbone (NVIDIA's SSD300 v1.1 design) at 300x300."""
    t = Tracker.image(300, 300)
    _resnet18_backbone(t, layer3_stride=1, stages=3)
    features = [(t.h, t.w, t.c)]
    for i, mid in enumerate(_SSD_MIDDLE):
        t.conv(f"extra{i + 1}.conv1", mid, 1, pad=0)
        if i < 3:
            t.conv(f"extra{i + 1}.conv2", _SSD_CHANNELS[i + 1], 3, stride=2, pad=1)
        else:
            t.conv(f"extra{i + 1}.conv2", _SSD_CHANNELS[i + 1], 3, pad=0)
        features.append((t.h, t.w, t.c))
    for i, ((h, w, c), boxes) in enumerate(zip(features, _SSD_BOXES, strict=True)):
        head = Tracker(h, w, c, t.layers)
        head.conv(f"head{i}.loc", boxes * 4, 3, update=False)
        head.conv(f"head{i}.conf", boxes * _SSD_CLASSES, 3, update=False)
    return tuple(t.layers)


SSD300_FEATURE_SIZES = (38, 19, 10, 5, 3, 1)
"""Feature-map sizes of SSD300 (Liu et al. ECCV 2016; NVIDIA's SSD300 v1.1)."""
