"""Architecture tables as files: read a table written in the MobileNetV3 paper's columns
(Input, Operator, exp size, #out, SE, NL, s — Tables 1 and 2) from CSV or YAML, and build the
network it describes.

Cells use the paper's notation: ``224²×3`` (or ``224x224x3``), ``bneck 5×5``, ``conv2d 1×1, NBN``,
``✓`` / ``–``, ``k`` for the number of classes.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

from .configs import V3Row
from .models import MobileNetV3

__all__ = ["read_table", "parse_row", "from_table", "COLUMNS"]

COLUMNS = ("input", "operator", "exp", "out", "se", "nl", "s")
_ALIASES = {"exp size": "exp", "#out": "out", "stride": "s", "exp_size": "exp"}
_EMPTY = {"", "-", "–", "—", "none", "null"}
_YES = {"✓", "✔", "yes", "y", "true", "1"}
_NO = _EMPTY | {"no", "n", "false", "0"}
_TIMES = r"\s*[x×*]\s*"
_INPUT = re.compile(rf"^(\d+)\s*(?:²|\^2|{_TIMES}(\d+))?{_TIMES}(\d+)$")
_OPERATOR = re.compile(r"^(conv2d|bneck|pool)\s*(?:(\d+)\s*[x×]\s*(\d+))?\s*(,?\s*nbn)?$", re.I)


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _int(field: str, value, where: str, allow_empty: bool = False, allow_k: bool = False) -> int | None:
    s = _text(value)
    if (allow_empty and s.lower() in _EMPTY) or (allow_k and s == "k"):
        return None
    if not re.fullmatch(r"\d+", s):
        expected = "an integer" + (", – for none" if allow_empty else "") + (" or k" if allow_k else "")
        raise ValueError(f"{field}: got {s!r} in {where}, expected {expected}")
    return int(s)


def parse_row(cells: dict, where: str = "row") -> V3Row:
    """One table row (a dict keyed by the paper's column names) as a `V3Row`."""
    cells = {_ALIASES.get(k.strip().lower(), k.strip().lower()): v for k, v in cells.items() if k is not None}
    missing = [c for c in COLUMNS if c not in cells]
    if missing:
        raise ValueError(f"columns: {where} lacks {', '.join(missing)}, expected {', '.join(COLUMNS)}")
    text = _text(cells["input"])
    m = _INPUT.match(text)
    if not m or (m.group(2) and m.group(2) != m.group(1)):
        raise ValueError(f"input: got {text!r} in {where}, expected resolution²×channels such as 112²×16")
    op = _OPERATOR.match(_text(cells["operator"]))
    if not op or (op.group(2) and op.group(2) != op.group(3)):
        raise ValueError(f"operator: got {_text(cells['operator'])!r} in {where}, expected conv2d k×k, "
                         "bneck k×k, pool k×k or conv2d 1×1, NBN")
    name = op.group(1).lower() + (" NBN" if op.group(4) else "")
    se = _text(cells["se"]).lower()
    if se not in _YES | _NO:
        raise ValueError(f"SE: got {cells['se']!r} in {where}, expected ✓ or –")
    nl = _text(cells["nl"]).upper()
    return V3Row(
        input=(int(m.group(1)), int(m.group(3))),
        operator=name,
        kernel=int(op.group(2)) if op.group(2) else 1,
        exp=_int("exp", cells["exp"], where, allow_empty=True),
        out=_int("out", cells["out"], where, allow_empty=True, allow_k=True),
        se=se in _YES,
        nl=None if nl.lower() in _EMPTY else nl,  # V3Row names an unknown NL
        stride=_int("s", cells["s"], where),
    )


def read_table(path: str | Path) -> list[V3Row]:
    """The rows of a CSV (header row with the paper's columns) or YAML (a list of mappings) table file."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"table: {str(path)!r} does not exist, expected a .csv or .yaml file")
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            records = yaml.safe_load(path.read_text(encoding="utf-8"))
        elif path.suffix.lower() == ".csv":
            records = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines(), skipinitialspace=True))
        else:
            raise ValueError(f"table: got {path.name!r}, expected a .csv, .yaml or .yml file")
    except (UnicodeDecodeError, csv.Error, Exception) as e:
        if isinstance(e, ValueError) and str(e).startswith("table:"):
            raise
        raise ValueError(f"table: cannot parse {path.name} ({type(e).__name__}), expected CSV or YAML "
                         "with the paper's columns") from None
    if not isinstance(records, list) or not records or not all(isinstance(r, dict) for r in records):
        raise ValueError(f"table: {path.name} holds no rows, expected a list of rows with columns {', '.join(COLUMNS)}")
    return [parse_row(r, f"{path.name} row {i}") for i, r in enumerate(records, start=1)]


def from_table(rows_or_path, num_classes: int = 1000) -> MobileNetV3:
    """Build the MobileNetV3-style network a table describes (rows as in `mnv3lib.configs.V3_LARGE`,
    or a table file). The paper's Table 1 gives exactly `mobilenet_v3_large()`; Table 2, as printed,
    gives `mobilenet_v3_small(as_printed=True)`."""
    rows = read_table(rows_or_path) if isinstance(rows_or_path, (str, Path)) else list(rows_or_path)
    if not rows or rows[0].operator != "conv2d" or not any(r.operator == "bneck" for r in rows):
        raise ValueError("rows: expected a conv2d stem row followed by bneck rows")
    return MobileNetV3(rows, num_classes=num_classes)
