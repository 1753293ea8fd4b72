"""mnv3lib: MobileNetV1, V2 and V3 as the papers describe them, provably equal to torchvision's.

The shared library of the MobileNet book: every chapter imports what it explains from here.
"""
from . import blocks, configs, layers, models
from .models import mobilenet_v1, mobilenet_v2, mobilenet_v3_large, mobilenet_v3_small
from .reference import StateDictMismatch, from_torchvision, to_torchvision
from .shapes import ShapeError, check_table, shape_table
from .costs import cost_table, count_params, madds, memory_profile, peak_memory
from . import data, latency, papers, tables
from .tables import from_table
from ._render import Table

__all__ = [
    "blocks", "configs", "layers", "models",
    "mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small",
    "from_torchvision", "to_torchvision", "StateDictMismatch",
    "shape_table", "check_table", "ShapeError",
    "count_params", "madds", "cost_table", "peak_memory", "memory_profile", "papers",
    "tables", "from_table", "latency", "Table", "data",
]
__version__ = "0.1.0"


def __getattr__(name):
    # mnv3lib.viz / mnv3lib.widgets load matplotlib / ipywidgets on first use, not at `import mnv3lib`
    if name in ("viz", "widgets"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
