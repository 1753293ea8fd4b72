"""The papers' architecture tables as data: one entry per printed row, in the printed order.

A reader holding the paper finds each number here. `input` is the table's Input column as
(resolution, channels): "112²×16" is (112, 16). Where the paper misprints, the row holds the
value that is right and the comment says what is printed.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["V1Row", "V2Row", "V3Row", "V1", "V2", "V3_LARGE", "V3_SMALL", "NLS",
           "V3_SMALL_CIRCULATED", "V1_AS_PRINTED", "for_small_images"]

NLS = ("RE", "HS")  # MobileNetV3's NL column: ReLU or h-swish


def _positive(field: str, value, row) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{field}: got {value!r} in {row}, expected a positive integer")


def _kernel_stride(row) -> None:
    k = row.kernel
    odd = row.operator not in ("pool", "avgpool")  # a global pool's window is the map reaching it: any size
    if not isinstance(k, int) or isinstance(k, bool) or k < 1 or (odd and k % 2 == 0):
        raise ValueError(f"kernel: got {k!r} in {row}, expected a positive odd integer (1, 3, 5, ...)")
    if row.stride not in (1, 2):
        raise ValueError(f"stride: got {row.stride!r} in {row}, expected 1 or 2")


def _input(row) -> None:
    if row.input is not None:
        if not (isinstance(row.input, tuple) and len(row.input) == 2):
            raise ValueError(f"input: got {row.input!r} in {row}, expected (resolution, channels)")
        _positive("input resolution", row.input[0], row)
        _positive("input channels", row.input[1], row)


# ---------------------------------------------------------------------------------------------
# MobileNetV1, Table 1: "Type / Stride, Filter Shape, Input Size"; dw and pointwise are separate rows.
@dataclass(frozen=True)
class V1Row:
    input: tuple[int, int] | None
    operator: str        # "conv" (full 3×3), "dw" (depthwise 3×3), "pw" (1×1), "pool", "fc"
    kernel: int
    out: int | None      # None: as many as the input (dw, pool) or k classes (fc)
    stride: int

    OPERATORS = ("conv", "dw", "pw", "pool", "fc")

    def __post_init__(self):
        if self.operator not in self.OPERATORS:
            raise ValueError(f"operator: got {self.operator!r} in {self}, expected one of {self.OPERATORS}")
        _input(self)
        _kernel_stride(self)
        if self.out is not None:
            _positive("out", self.out, self)


def _v1_pair(res, cin, cout, stride):
    """One depthwise-separable layer of Table 1: 'Conv dw / s' then 'Conv / s1' 1×1."""
    return [V1Row((res, cin), "dw", 3, None, stride), V1Row((res // stride, cin), "pw", 1, cout, 1)]


V1 = [
    V1Row((224, 3), "conv", 3, 32, 2),      # Conv / s2, 3×3×3×32
    *_v1_pair(112, 32, 64, 1),              # Conv dw / s1, 3×3×32 dw;  Conv / s1, 1×1×32×64
    *_v1_pair(112, 64, 128, 2),             # Conv dw / s2;             Conv / s1, 1×1×64×128
    *_v1_pair(56, 128, 128, 1),             # Conv dw / s1;             Conv / s1, 1×1×128×128
    *_v1_pair(56, 128, 256, 2),             # Conv dw / s2;             Conv / s1, 1×1×128×256
    *_v1_pair(28, 256, 256, 1),             # Conv dw / s1;             Conv / s1, 1×1×256×256
    *_v1_pair(28, 256, 512, 2),             # Conv dw / s2;             Conv / s1, 1×1×256×512
    *[r for _ in range(5) for r in _v1_pair(14, 512, 512, 1)],  # "5×" Conv dw / s1; Conv / s1
    *_v1_pair(14, 512, 1024, 2),            # Conv dw / s2;             Conv / s1, 1×1×512×1024
    *_v1_pair(7, 1024, 1024, 1),            # printed "Conv dw / s2" on 7²: a misprint, 7² → 7² is s1
    V1Row((7, 1024), "pool", 7, None, 1),   # Avg Pool / s1, Pool 7×7
    V1Row((1, 1024), "fc", 1, None, 1),     # FC / s1, 1024×1000 (then Softmax)
]


# ---------------------------------------------------------------------------------------------
# MobileNetV2, Table 2: "Input, Operator, t, c, n, s".
@dataclass(frozen=True)
class V2Row:
    input: tuple[int, int] | None
    operator: str        # "conv2d" (3×3 stem), "bottleneck", "conv2d 1x1", "avgpool", "classifier"
    t: int | None        # expansion factor (bottlenecks only)
    c: int | None        # output channels; None for pool and the k-way classifier
    n: int               # repeats
    s: int               # stride of the first repeat

    OPERATORS = ("conv2d", "bottleneck", "conv2d 1x1", "avgpool", "classifier")

    @property
    def stride(self) -> int:
        return self.s

    @property
    def kernel(self) -> int:
        pool = self.input[0] if self.input is not None else 7  # global: its window is its input map
        return {"conv2d": 3, "bottleneck": 3, "avgpool": pool}.get(self.operator, 1)

    def __post_init__(self):
        if self.operator not in self.OPERATORS:
            raise ValueError(f"operator: got {self.operator!r} in {self}, expected one of {self.OPERATORS}")
        _input(self)
        _kernel_stride(self)
        _positive("n", self.n, self)
        if self.c is not None:
            _positive("c", self.c, self)
        if self.operator == "bottleneck":
            _positive("t", self.t, self)


V2 = [
    V2Row((224, 3), "conv2d", None, 32, 1, 2),         # 224²×3    conv2d       -  32   1  2
    V2Row((112, 32), "bottleneck", 1, 16, 1, 1),       # 112²×32   bottleneck   1  16   1  1
    V2Row((112, 16), "bottleneck", 6, 24, 2, 2),       # 112²×16   bottleneck   6  24   2  2
    V2Row((56, 24), "bottleneck", 6, 32, 3, 2),        # 56²×24    bottleneck   6  32   3  2
    V2Row((28, 32), "bottleneck", 6, 64, 4, 2),        # 28²×32    bottleneck   6  64   4  2
    V2Row((14, 64), "bottleneck", 6, 96, 3, 1),        # 14²×64    bottleneck   6  96   3  1
    V2Row((14, 96), "bottleneck", 6, 160, 3, 2),       # 14²×96    bottleneck   6  160  3  2
    V2Row((7, 160), "bottleneck", 6, 320, 1, 1),       # 7²×160    bottleneck   6  320  1  1
    V2Row((7, 320), "conv2d 1x1", None, 1280, 1, 1),   # 7²×320    conv2d 1×1   -  1280 1  1
    V2Row((7, 1280), "avgpool", None, None, 1, 1),     # 7²×1280   avgpool 7×7  -  -    1  -
    V2Row((1, 1280), "classifier", None, None, 1, 1),  # 1×1×1280  conv2d 1×1   -  k    -  -
]


# ---------------------------------------------------------------------------------------------
# MobileNetV3, Tables 1 and 2: "Input, Operator, exp size, #out, SE, NL, s".
@dataclass(frozen=True)
class V3Row:
    input: tuple[int, int] | None
    operator: str        # "conv2d", "bneck", "pool", "conv2d NBN" (1×1 without BatchNorm)
    kernel: int
    exp: int | None      # exp size (bnecks only)
    out: int | None      # #out; None for pool and the k-way classifier
    se: bool
    nl: str | None       # "RE", "HS", or None (pool, classifier)
    stride: int

    OPERATORS = ("conv2d", "bneck", "pool", "conv2d NBN")

    def __post_init__(self):
        if self.operator not in self.OPERATORS:
            raise ValueError(f"operator: got {self.operator!r} in {self}, expected one of {self.OPERATORS}")
        _input(self)
        _kernel_stride(self)
        if self.nl is not None and self.nl not in NLS:
            raise ValueError(f"nl: got {self.nl!r} in {self}, expected one of {NLS}")
        for field in ("exp", "out"):
            if getattr(self, field) is not None:
                _positive(field, getattr(self, field), self)
        if self.operator == "bneck" and (self.exp is None or self.out is None or self.nl is None):
            raise ValueError(f"bneck: got exp={self.exp!r}, out={self.out!r}, nl={self.nl!r} in {self}, "
                             "expected all three set")


R = V3Row
V3_LARGE = [  # Table 1
    R((224, 3), "conv2d", 3, None, 16, False, "HS", 2),     # 224²×3    conv2d 3×3          -    16  -  HS 2
    R((112, 16), "bneck", 3, 16, 16, False, "RE", 1),       # 112²×16   bneck 3×3          16    16  -  RE 1
    R((112, 16), "bneck", 3, 64, 24, False, "RE", 2),       # 112²×16   bneck 3×3          64    24  -  RE 2
    R((56, 24), "bneck", 3, 72, 24, False, "RE", 1),        # 56²×24    bneck 3×3          72    24  -  RE 1
    R((56, 24), "bneck", 5, 72, 40, True, "RE", 2),         # 56²×24    bneck 5×5          72    40  ✓  RE 2
    R((28, 40), "bneck", 5, 120, 40, True, "RE", 1),        # 28²×40    bneck 5×5         120    40  ✓  RE 1
    R((28, 40), "bneck", 5, 120, 40, True, "RE", 1),        # 28²×40    bneck 5×5         120    40  ✓  RE 1
    R((28, 40), "bneck", 3, 240, 80, False, "HS", 2),       # 28²×40    bneck 3×3         240    80  -  HS 2
    R((14, 80), "bneck", 3, 200, 80, False, "HS", 1),       # 14²×80    bneck 3×3         200    80  -  HS 1
    R((14, 80), "bneck", 3, 184, 80, False, "HS", 1),       # 14²×80    bneck 3×3         184    80  -  HS 1
    R((14, 80), "bneck", 3, 184, 80, False, "HS", 1),       # 14²×80    bneck 3×3         184    80  -  HS 1
    R((14, 80), "bneck", 3, 480, 112, True, "HS", 1),       # 14²×80    bneck 3×3         480   112  ✓  HS 1
    R((14, 112), "bneck", 3, 672, 112, True, "HS", 1),      # 14²×112   bneck 3×3         672   112  ✓  HS 1
    R((14, 112), "bneck", 5, 672, 160, True, "HS", 2),      # 14²×112   bneck 5×5         672   160  ✓  HS 2
    R((7, 160), "bneck", 5, 960, 160, True, "HS", 1),       # 7²×160    bneck 5×5         960   160  ✓  HS 1
    R((7, 160), "bneck", 5, 960, 160, True, "HS", 1),       # 7²×160    bneck 5×5         960   160  ✓  HS 1
    R((7, 160), "conv2d", 1, None, 960, False, "HS", 1),    # 7²×160    conv2d 1×1          -   960  -  HS 1
    R((7, 960), "pool", 7, None, None, False, None, 1),     # 7²×960    pool 7×7            -     -  -  -  1
    R((1, 960), "conv2d NBN", 1, None, 1280, False, "HS", 1),  # 1²×960  conv2d 1×1, NBN   -  1280  -  HS 1
    R((1, 1280), "conv2d NBN", 1, None, None, False, None, 1),  # 1²×1280 conv2d 1×1, NBN  -     k  -  -  1
]

V3_SMALL = [  # Table 2, as printed (the SE on the last conv2d is discussed in mnv3lib.models)
    R((224, 3), "conv2d", 3, None, 16, False, "HS", 2),     # 224²×3    conv2d 3×3          -    16  -  HS 2
    R((112, 16), "bneck", 3, 16, 16, True, "RE", 2),        # 112²×16   bneck 3×3          16    16  ✓  RE 2
    R((56, 16), "bneck", 3, 72, 24, False, "RE", 2),        # 56²×16    bneck 3×3          72    24  -  RE 2
    R((28, 24), "bneck", 3, 88, 24, False, "RE", 1),        # 28²×24    bneck 3×3          88    24  -  RE 1
    R((28, 24), "bneck", 5, 96, 40, True, "HS", 2),         # 28²×24    bneck 5×5          96    40  ✓  HS 2
    R((14, 40), "bneck", 5, 240, 40, True, "HS", 1),        # 14²×40    bneck 5×5         240    40  ✓  HS 1
    R((14, 40), "bneck", 5, 240, 40, True, "HS", 1),        # 14²×40    bneck 5×5         240    40  ✓  HS 1
    R((14, 40), "bneck", 5, 120, 48, True, "HS", 1),        # 14²×40    bneck 5×5         120    48  ✓  HS 1
    R((14, 48), "bneck", 5, 144, 48, True, "HS", 1),        # 14²×48    bneck 5×5         144    48  ✓  HS 1
    R((14, 48), "bneck", 5, 288, 96, True, "HS", 2),        # 14²×48    bneck 5×5         288    96  ✓  HS 2
    R((7, 96), "bneck", 5, 576, 96, True, "HS", 1),         # 7²×96     bneck 5×5         576    96  ✓  HS 1
    R((7, 96), "bneck", 5, 576, 96, True, "HS", 1),         # 7²×96     bneck 5×5         576    96  ✓  HS 1
    R((7, 96), "conv2d", 1, None, 576, True, "HS", 1),      # 7²×96     conv2d 1×1          -   576  ✓  HS 1
    R((7, 576), "pool", 7, None, None, False, None, 1),     # 7²×576    pool 7×7            -     -  -  -  1
    R((1, 576), "conv2d NBN", 1, None, 1024, False, "HS", 1),  # 1²×576  conv2d 1×1, NBN   -  1024  -  HS 1
    R((1, 1024), "conv2d NBN", 1, None, None, False, None, 1),  # 1²×1024 conv2d 1×1, NBN  -     k  -  -  1
]
del R


# ---------------------------------------------------------------------------------------------
# Tables with known errors, kept so that `mnv3lib.check_table` can show how a shape check finds them.

V3_SMALL_CIRCULATED = [  # the copy of Table 2 this project started from: 3 errors, marked "ERROR"
    V3Row((224, 3), "conv2d", 3, None, 16, True, "HS", 2),      # ERROR: SE ✓ on the stem conv (paper: –)
    V3Row((112, 16), "bneck", 3, 16, 16, True, "RE", 1),        # ERROR: s=1 (paper: 2); the next row's 56² says so
    V3Row((56, 16), "bneck", 3, 72, 24, False, "RE", 2),        # 56²×16 as the paper: contradicts the s=1 above
    V3Row((28, 24), "bneck", 3, 88, 24, False, "RE", 1),        # as the paper
    V3Row((28, 24), "bneck", 5, 96, 40, True, "HS", 2),         # as the paper
    V3Row((14, 40), "bneck", 5, 240, 40, True, "HS", 1),        # as the paper
    V3Row((14, 40), "bneck", 5, 240, 40, True, "HS", 1),        # as the paper
    V3Row((14, 40), "bneck", 5, 120, 48, True, "HS", 1),        # as the paper
    V3Row((14, 48), "bneck", 5, 144, 48, True, "HS", 1),        # as the paper
    V3Row((14, 48), "bneck", 5, 288, 96, True, "HS", 2),        # as the paper
    V3Row((7, 96), "bneck", 5, 576, 96, True, "HS", 1),         # as the paper
    V3Row((7, 96), "bneck", 5, 576, 96, True, "HS", 1),         # as the paper
    V3Row((7, 96), "conv2d", 1, None, 576, False, "HS", 1),     # ERROR: no SE on the last 1×1 conv (paper: ✓)
    V3Row((7, 576), "pool", 7, None, None, False, None, 1),     # as the paper
    V3Row((1, 576), "conv2d NBN", 1, None, 1024, False, "HS", 1),  # as the paper
    V3Row((1, 1024), "conv2d NBN", 1, None, None, False, None, 1),  # as the paper
]

V1_AS_PRINTED = [  # MobileNetV1 Table 1 with its misprint: the second-to-last "Conv dw / s2" on a 7² input
    *V1[:-4],                                   # rows 0-24 as in V1
    V1Row((7, 1024), "dw", 3, None, 2),         # printed "Conv dw / s2, 3×3×1024 dw, 7×7×1024": s2 is the misprint
    V1Row((7, 1024), "pw", 1, 1024, 1),         # printed input 7×7×1024, which only an s1 above gives
    *V1[-2:],                                   # Avg Pool 7×7, FC 1024×1000
]


# ---------------------------------------------------------------------------------------------
# Small images (chapter 6): the same tables with fewer early downsamplings.

def _stride_of(row) -> int:
    return row.s if isinstance(row, V2Row) else row.stride


def for_small_images(rows: list, input_size: int = 32, unstrided: int = 2) -> list:
    """The paper's `rows` for small images: the first `unstrided` stride-2 rows (the stem and the
    first downsampling stage) get stride 1; every other entry is the paper's.

    The CIFAR-style adaptation of MobileNets: at 224×224 the body shrinks the image 32×; on a 32×32
    image that leaves a 1×1 map after the third stage. Two strides fewer make the total stride 8
    (32×32 → 4×4). The Input column is recomputed for `input_size` and each global pool's window is
    the map that reaches it, so `mnv3lib.check_table(for_small_images(rows), input_size)` holds.
    """
    if isinstance(unstrided, bool) or not isinstance(unstrided, int) or unstrided < 0:
        raise ValueError(f"unstrided: got {unstrided!r}, expected an integer >= 0")
    if isinstance(input_size, bool) or not isinstance(input_size, int) or input_size < 1:
        raise ValueError(f"input_size: got {input_size!r}, expected a positive integer")
    out, res, left = [], input_size, unstrided
    for r in rows:
        change = {}
        if _stride_of(r) == 2 and left > 0:
            change["s" if isinstance(r, V2Row) else "stride"], left = 1, left - 1
        if r.input is not None:
            change["input"] = (res, r.input[1])
        if r.operator in ("pool", "avgpool"):
            if not isinstance(r, V2Row):  # V2Row's pool window follows its input
                change["kernel"] = res
            res = 1
        r = replace(r, **change)
        res = -(-res // _stride_of(r))  # "same" padding: ceil(res / stride)
        out.append(r)
    return out
