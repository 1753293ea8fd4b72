"""Shape tables: trace a live network into the papers' table layout, and check a table against it.

MobileNetV1 Table 1, V2 Table 2 and V3 Tables 1-2 give each row's Input: the tensor flowing into it.
`shape_table` writes that table from one forward pass with hooks (shapes from the tensors; operator,
exp, SE, NL, s from the modules, never from `mnv3lib.configs`: independent evidence); `check_table`
names the first row of a table whose stated input is not what flows into the network built from it.

The head: V3 prints "conv2d 1×1, NBN" after the pool (V2 "conv2d 1×1", V1 "FC"); mnv3lib, like
torchvision, uses nn.Linear. On the pooled 1×1 map a 1×1 conv with bias and no BatchNorm is y = Wx + b,
a Linear layer (weight (out, in, 1, 1) ↔ (out, in)): each Linear is traced as that row, input 1²×in.
"""
from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from itertools import accumulate, zip_longest

import torch
from torch import nn

from . import _checks, configs, models
from .blocks import Bneck, DepthwiseSeparable, InvertedResidual
from .configs import V1Row, V2Row, V3Row
from .layers import ConvBNAct, HSwish

__all__ = ["ShapeRow", "ShapeTable", "SideBySide", "ShapeError", "shape_table", "check_table"]

_NL = {nn.ReLU: "RE", nn.ReLU6: "RE6", HSwish: "HS", nn.Hardswish: "HS"}  # the papers' NL names
_SKIP = (nn.Dropout, nn.Flatten, nn.Identity, *_NL)  # no row of their own in the papers' tables
_HEAD = {"v1": "fc", "v2": "conv2d 1×1", "v3": "conv2d 1×1, NBN"}
_POOL = {"v1": "avg pool", "v2": "avgpool", "v3": "pool"}


def fmt_shape(shape) -> str:
    """(112, 16) → "112²×16", the papers' notation; ((224, 160), 3) → "224×160×3"; None → "–"."""
    if shape is None:
        return "–"
    res, c = shape
    return f"{res[0]}×{res[1]}×{c}" if isinstance(res, tuple) else f"{res}²×{c}"


class ShapeError(ValueError):
    """A table row that disagrees with the network built from the table (.row .operator .field .stated
    .traced); `field` is "input", "operator", or "order" (a row the builder cannot read where it stands)."""

    def __init__(self, row: int, operator: str, field: str, stated, traced, where: str | None = None):
        self.row, self.operator, self.field, self.stated, self.traced = row, operator, field, stated, traced
        show = fmt_shape if field == "input" else str
        super().__init__(f"{where or f'row {row}'} ({operator}): " + (f"out of order, tables are read as {traced}" if
                         field == "order" else f"table says {field} {show(stated)}, the network gives {show(traced)}"))


@dataclass(frozen=True)
class ShapeRow:
    """One row of a paper-style table. `input` is (resolution, channels): "112²×16" is (112, 16)."""
    input: tuple | None
    operator: str            # "conv2d 3×3", "bneck 5×5", "bottleneck", "conv dw 3×3", "pool 7×7", ...
    exp: int | None = None   # expansion channels (V2/V3 blocks)
    out: int | None = None
    se: bool = False
    nl: str | None = None    # "RE", "RE6", "HS" or None (linear)
    stride: int = 1
    t: float | None = None   # expansion factor exp / input channels: V2 Table 2's t
    n: int = 1               # repeats, as V2 Table 2 groups identical consecutive blocks
    name: str = field(default="", compare=False)  # module path in the traced model


def _cell(v) -> str:
    return "–" if v is None or v is False else "✓" if v is True else f"{v:g}" if isinstance(v, float) else str(v)


class _Table:
    """Text and HTML rendering shared by ShapeTable and SideBySide."""
    title, _left = "", {"Operator"}  # subclasses set .rows and give _header(), _body() (cells as strings)

    def __len__(self): return len(self.rows)
    def __iter__(self): return iter(self.rows)
    def __getitem__(self, i): return self.rows[i]
    def _bad(self) -> list[bool]: return [False] * len(self)

    def __str__(self) -> str:
        head, body = self._header(), self._body()
        w = [max(len(x) for x in col) for col in zip(head, *body)]
        fmt = lambda cells: "  ".join(c.ljust(n) if h in self._left else c.rjust(n)  # noqa: E731
                                      for c, n, h in zip(cells, w, head))
        return "\n".join([self.title, fmt(head), *map(fmt, body)])

    def _repr_html_(self) -> str:
        head = self._header()
        style = lambda h: f'text-align:{"left" if h in self._left else "right"};padding:1px 6px;white-space:nowrap'  # noqa: E731
        row = lambda tag, cells: "".join(  # noqa: E731
            f'<{tag} style="{style(h)}">{html.escape(c)}</{tag}>' for c, h in zip(cells, head))
        bad = ' style="background:#fde2e2"'  # rows whose traced and paper sides disagree
        trs = "".join(f'<tr{bad if b else ""}>{row("td", cells)}</tr>' for cells, b in zip(self._body(), self._bad()))
        return (f'<table class="mnv3lib-shapes"><caption>{html.escape(self.title)}</caption>'
                f'<thead><tr>{row("th", head)}</tr></thead><tbody>{trs}</tbody></table>')


class ShapeTable(_Table):
    """Traced rows in the papers' layout: list-like, `str()` for terminals, HTML in notebooks."""

    COLUMNS = ["Input", "Operator", "exp", "out", "SE", "NL", "s"]     # V3 Tables 1-2
    GROUPED_COLUMNS = ["Input", "Operator", "t", "c", "n", "s"]        # V2 Table 2

    def __init__(self, rows, title: str = "", grouped: bool = False):
        self.rows, self.title, self.is_grouped = list(rows), title, grouped

    def __repr__(self): return f"<ShapeTable {self.title!r}: {len(self)} rows>"
    def __getitem__(self, i):
        return ShapeTable(self.rows[i], self.title, self.is_grouped) if isinstance(i, slice) else self.rows[i]

    def _header(self): return self.GROUPED_COLUMNS if self.is_grouped else self.COLUMNS
    def _body(self): return [self._cells(r) for r in self.rows]

    def _cells(self, r: ShapeRow) -> list[str]:
        out = "k" if r.out is None and r.operator in _HEAD.values() else _cell(r.out)  # the paper's k classes
        if self.is_grouped:
            return [fmt_shape(r.input), r.operator, _cell(r.t), out, _cell(r.n), _cell(r.stride)]
        return [fmt_shape(r.input), r.operator, _cell(r.exp), out, *map(_cell, (r.se, r.nl, r.stride))]

    def grouped(self) -> ShapeTable:
        """Consecutive blocks with the same operator, t, out, SE and NL, all but the first at stride 1,
        merged into one row with n repeats: how V2 Table 2 prints "t, c, n, s"."""
        rows: list[ShapeRow] = []
        key = lambda r: (r.operator, r.t, r.out, r.se, r.nl)  # noqa: E731
        for r in self.rows:
            if rows and r.t is not None and r.stride == 1 and key(r) == key(rows[-1]):
                rows[-1] = replace(rows[-1], n=rows[-1].n + r.n)
            else:
                rows.append(r)
        return ShapeTable(rows, self.title + ", grouped", grouped=True)

    def side_by_side(self, paper_rows) -> SideBySide:
        """This table beside `paper_rows` (e.g. `configs.V3_SMALL`), ✓/✗ per row. V2 rows (t, c, n, s)
        are compared with the grouped trace. A field the paper leaves empty (k classes, –) is not compared."""
        paper = [_paper_row(r) for r in paper_rows]
        mine = self.grouped() if any(isinstance(r, V2Row) for r in paper_rows) and not self.is_grouped else self
        return SideBySide(mine, paper)


class SideBySide(_Table):
    """Traced columns │ paper columns │ match, one line per row (ShapeTable.side_by_side)."""

    def __init__(self, traced: ShapeTable, paper: list[ShapeRow]):
        self.traced, self.paper = traced, ShapeTable(paper, grouped=traced.is_grouped)
        self.rows = [(t, p, _matches(t, p)) for t, p in zip_longest(traced.rows, paper)]
        self.title = f"{traced.title}  │  paper"

    def _header(self): return [*self.traced._header(), "│", *self.traced._header(), "match"]

    @property
    def mismatches(self) -> list[int]:
        """Indices of the rows where traced and paper disagree (or one side has no row)."""
        return [i for i, (*_, ok) in enumerate(self.rows) if not ok]

    all_match = property(lambda self: not self.mismatches)

    def _body(self):
        blank = [""] * len(self.traced._header())
        return [[*(self.traced._cells(t) if t else blank), "│", *(self.paper._cells(p) if p else blank),
                 "✓" if ok else "✗"] for t, p, ok in self.rows]

    def _bad(self): return [not ok for *_, ok in self.rows]


def _matches(traced: ShapeRow | None, paper: ShapeRow | None) -> bool:
    return traced is not None and paper is not None and all(
        getattr(paper, f) is None or getattr(paper, f) == getattr(traced, f)
        for f in ("input", "operator", "exp", "out", "se", "nl", "stride", "t", "n"))


def _paper_row(r) -> ShapeRow:
    """A configs row (V1Row, V2Row, V3Row) in ShapeRow form, with the operator names the trace uses."""
    if isinstance(r, ShapeRow):
        return r
    k = f"{r.kernel}×{r.kernel}"
    if isinstance(r, V3Row):
        op = {"conv2d": f"conv2d {k}", "bneck": f"bneck {k}", "pool": f"pool {k}", "conv2d NBN": _HEAD["v3"]}
        return ShapeRow(r.input, op[r.operator], r.exp, r.out, r.se, r.nl, r.stride)
    if isinstance(r, V2Row):
        op = {"conv2d": f"conv2d {k}", "bottleneck": "bottleneck", "conv2d 1x1": "conv2d 1×1",
              "avgpool": f"avgpool {k}", "classifier": _HEAD["v2"]}
        return ShapeRow(r.input, op[r.operator], None, r.c, stride=r.s, t=r.t, n=r.n)
    if isinstance(r, V1Row):
        op = {"conv": f"conv {k}", "dw": f"conv dw {k}", "pw": f"conv {k}", "pool": f"avg pool {k}", "fc": "fc"}
        return ShapeRow(r.input, op[r.operator], None, r.out, stride=r.stride)
    raise ValueError(f"row: got {type(r).__name__} {r!r}, expected a V1Row, V2Row, V3Row or ShapeRow")


# --- tracing ------------------------------------------------------------------------------------

def _family(model: nn.Module) -> str:
    """Which paper's names to use: the first block found decides (a V3 bneck is also a V2 block)."""
    kinds = ((Bneck, "v3"), (InvertedResidual, "v2"), (DepthwiseSeparable, "v1"))
    found = (f for m in model.modules() for cls, f in kinds if isinstance(m, cls))
    return next(found, {models.MobileNetV1: "v1", models.MobileNetV2: "v2"}.get(type(model), "v3"))


def _units(module: nn.Module, name: str = ""):
    """(name, module, activation after it) for every row of the paper's table, in forward order."""
    if isinstance(module, models.MobileNet):
        for part in ("stem", "blocks", "last_conv", "pool", "classifier"):
            if getattr(module, part) is not None:
                yield from _units(getattr(module, part), part)
    elif isinstance(module, DepthwiseSeparable):  # V1 Table 1 prints its two halves as two rows
        yield f"{name}.depthwise", module.depthwise, None
        yield f"{name}.pointwise", module.pointwise, None
    elif isinstance(module, nn.Sequential):
        kids = list(module.named_children())
        for i, (n, m) in enumerate(kids):
            path = f"{name}.{n}" if name else n
            if isinstance(m, nn.Linear):  # its NL is the activation that follows it (dropout aside)
                act = next((a for _, a in kids[i + 1:] if not isinstance(a, nn.Dropout)), None)
                yield path, m, act if type(act) in _NL else None
            elif not isinstance(m, _SKIP):
                yield from _units(m, path)
    elif isinstance(module, (ConvBNAct, InvertedResidual, nn.Linear, nn.AdaptiveAvgPool2d, nn.AvgPool2d)):
        yield name, module, None
    else:
        raise ValueError(f"model: got a {type(module).__name__} at {name or 'the top'!r}, expected "
                         "mnv3lib MobileNets, blocks, ConvBNAct, pools, Linear or Sequentials of them")


def _describe(m: nn.Module, x: torch.Size, y: torch.Size, act, family: str) -> dict:
    """The row of module `m`: operator, exp, SE, NL and stride from the module, out from the tensor."""
    nl = lambda a: None if a is None else _NL.get(type(a), type(a).__name__)  # noqa: E731
    if isinstance(m, InvertedResidual):
        conv, k = m.depthwise.conv, m.depthwise.conv.kernel_size[0]
        return dict(operator="bottleneck" if family == "v2" else f"bneck {k}×{k}", exp=conv.out_channels,
                    out=y[1], se=m.se is not None, nl=nl(m.depthwise.act), stride=conv.stride[0],
                    t=round(conv.out_channels / x[1], 2))
    if isinstance(m, ConvBNAct):
        conv, k = m.conv, m.conv.kernel_size[0]
        dw = 1 < conv.groups == conv.in_channels
        op = (f"conv dw {k}×{k}" if dw else f"conv {k}×{k}") if family == "v1" else f"conv2d {k}×{k}"
        return dict(operator=op, out=y[1], se=m.se is not None, nl=nl(m.act), stride=conv.stride[0])
    if isinstance(m, nn.Linear):
        return dict(operator=_HEAD[family], out=y[1], nl=nl(act))
    return dict(operator=f"{_POOL[family]} {x[2]}×{x[3]}")  # global pool: its window is what reaches it


def _input_shape(model: nn.Module, input_size) -> tuple[int, int, int]:
    """(C, H, W) from an int side, (H, W) or (C, H, W); C from the model's first conv when not given."""
    c = next((m.in_channels for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    size = (input_size,) * 2 if isinstance(input_size, int) else tuple(input_size) \
        if isinstance(input_size, (tuple, list)) else ()
    size = (c, *size) if len(size) == 2 else size
    if (len(size) != 3 or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in size)
            or max(size[1:]) > _checks.MAX_RESOLUTION or size[0] > _checks.MAX_CHANNELS):
        raise ValueError(f"input_size: got {input_size!r:.60}, expected a positive int, (H, W) or (C, H, W) "
                         f"with sides <= {_checks.MAX_RESOLUTION}")
    return size


def shape_table(model: nn.Module, input_size=224) -> ShapeTable:
    """Trace `model` (one forward pass, forward hooks) into the papers' table: one row per printed row.

    V3 (Tables 1-2): conv2d 3×3, each bneck k×k, conv2d 1×1, pool, conv2d 1×1 NBN per Linear; 20 rows
    for Large, 16 for Small. V2 (Table 2): one row per block; `.grouped()` gives Table 2's t, c, n, s.
    V1 (Table 1): "conv dw 3×3" and "conv 1×1" rows per layer. `input_size` is the image side, (H, W),
    or (C, H, W) for a single block or Sequential of blocks. The model is left in its mode, untouched.
    """
    shape = _input_shape(_checks.module("model", model), input_size)
    family, units, seen = _family(model), list(_units(model)), {}

    def record(mod, args, out):  # returns None: a hook's return value would replace the output
        seen.setdefault(id(mod), (args[0].shape, out.shape))
    hooks = [m.register_forward_hook(record) for _, m, _ in units]
    p, was_training = next(model.parameters(), torch.empty(0)), model.training
    try:
        with torch.no_grad():  # in eval mode: BatchNorm must not update its running statistics
            model.eval()(torch.zeros(1, *shape, dtype=p.dtype, device=p.device))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    rows = []
    for name, m, act in units:
        x, y = seen[id(m)]
        res = 1 if len(x) == 2 else x[2] if x[2] == x[3] else (x[2], x[3])
        rows.append(ShapeRow(input=(res, x[1]), name=name, **_describe(m, x, y, act, family)))
    what = getattr(model, "arch", None) or type(model).__name__
    return ShapeTable(rows, f"{what}, input {shape[1]}×{shape[2]}×{shape[0]}, traced")


# --- checking a table -----------------------------------------------------------------------------

_BUILDERS = {V1Row: models.MobileNetV1, V2Row: models.MobileNetV2, V3Row: models.MobileNetV3}
# The order each builder reads rows in, as letters; every prefix of a readable table matches the pattern.
_ORDER = {V1Row: ({"conv": "S", "dw": "d", "pw": "p", "pool": "P", "fc": "F"}, r"S(dp)*(d|P?F?)",
                  "conv, (dw, pw)…, pool, fc"),
          V2Row: ({"conv2d": "S", "bottleneck": "B", "conv2d 1x1": "C", "avgpool": "P", "classifier": "F"},
                  r"SB*C?P?F?", "conv2d, bottleneck…, conv2d 1x1, avgpool, classifier"),
          V3Row: ({"conv2d": "C", "bneck": "B", "pool": "P", "conv2d NBN": "N"}, r"CB*C?P?N*",
                  "conv2d, bneck…, conv2d, pool, conv2d NBN…")}


def check_table(rows, input_size=224, model: nn.Module | None = None) -> ShapeTable:
    """Build the network `rows` describe, trace it, and check each row's stated input against the
    tensor that flows into it; raise ShapeError at the first row that disagrees.

    `rows`: one kind of `mnv3lib.configs` rows: V3Row (V3 Tables 1-2, built by MobileNetV3), V2Row
    (V2 Table 2, a row spans its n blocks) or V1Row (V1 Table 1). Channels are the table's: the network
    is built at width 1, so a width-scaled table states its scaled numbers. `model` checks a network
    built elsewhere (e.g. by `from_table`, or at another width) instead. Rows with `input=None` are not
    checked. Returns the traced table lined up with the rows (V2: grouped as the rows are).
    """
    where = getattr(rows, "where", None)  # a table file's rows know their lines (mnv3lib.tables.TableRows)
    if not isinstance(rows, Iterable) or isinstance(rows, (str, bytes)):
        raise ValueError(f"rows: got {type(rows).__name__}, expected a list of V1Row, V2Row or V3Row (mnv3lib.configs)")
    rows = list(rows)
    where = where if where and len(where) == len(rows) else [None] * len(rows)
    kinds = {type(r) for r in rows}
    if len(kinds) != 1 or not kinds <= set(_BUILDERS):
        raise ValueError(f"rows: got {sorted(k.__name__ for k in kinds) or 'no rows'}, "
                         "expected a non-empty list of one kind: V1Row, V2Row or V3Row (mnv3lib.configs)")
    kind, paper = kinds.pop(), [_paper_row(r) for r in rows]
    letters, pattern, order = _ORDER[kind]
    codes = "".join(letters[r.operator] for r in rows)
    for i in range(len(rows)):  # a row out of order would make the builder build something else, or fail
        if not re.fullmatch(pattern, codes[:i + 1]):
            raise ShapeError(i, paper[i].operator, "order", paper[i].operator, order, where[i])
    if model is None:
        configs.check_size(rows)
    traced = shape_table(_BUILDERS[kind](rows) if model is None else model, input_size)
    starts = list(accumulate((p.n for p in paper), initial=0))  # a V2 row spans its n blocks
    for i, (p, at) in enumerate(zip(paper, starts)):  # operator first: a pool's window is what reaches it
        got = traced[at] if at < len(traced) else ShapeRow(None, f"no such row (it has {len(traced)})")
        for field_, stated in (("operator", p.operator), ("input", p.input)):
            if stated is not None and stated != getattr(got, field_):
                raise ShapeError(i, p.operator, field_, stated, getattr(got, field_), where[i])
    lined_up = [replace(traced[at], n=p.n) for p, at in zip(paper, starts)]
    return ShapeTable(lined_up + traced.rows[starts[-1]:], traced.title, grouped=kind is V2Row)
