"""mnv3lib: MobileNetV1, V2 and V3 as the papers describe them, provably equal to torchvision's.

The shared library of the MobileNet book: every chapter imports what it explains from here.
"""
from . import blocks, configs, layers, models
from .models import mobilenet_v1, mobilenet_v2, mobilenet_v3_large, mobilenet_v3_small
from .reference import StateDictMismatch, from_torchvision, to_torchvision

__all__ = [
    "blocks", "configs", "layers", "models",
    "mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small",
    "from_torchvision", "to_torchvision", "StateDictMismatch",
]
__version__ = "0.1.0"
