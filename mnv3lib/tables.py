"""Architecture tables as files: read a table written in the MobileNetV3 paper's columns
(Input, Operator, exp size, #out, SE, NL, s — Tables 1 and 2) from CSV or YAML, and build the
network it describes.

Cells use the paper's notation: ``224²×3`` (or ``224x224x3``), ``bneck 5×5``, ``conv2d 1×1, NBN``,
``✓`` / ``–``, ``k`` for the number of classes.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from .configs import V3Row, check_size
from .models import MobileNetV3
from .shapes import check_table

__all__ = ["read_table", "parse_row", "from_table", "COLUMNS", "TableRows"]

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
    if not isinstance(cells, dict):
        raise ValueError(f"row: got {type(cells).__name__} in {where}, expected a mapping of column names to cells")
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
    exp = _int("exp", cells["exp"], where, allow_empty=True)
    out = _int("out", cells["out"], where, allow_empty=True, allow_k=True)
    stride = _int("s", cells["s"], where)
    try:
        return V3Row(input=(int(m.group(1)), int(m.group(3))), operator=name,
                     kernel=int(op.group(2)) if op.group(2) else 1, exp=exp, out=out, se=se in _YES,
                     nl=None if nl.lower() in _EMPTY else nl, stride=stride)  # V3Row names an unknown NL
    except ValueError as e:  # V3Row's own checks (bounds, cells the builder ignores): say where in the file
        raise ValueError(f"{e} ({where})") from None


class TableRows(list):
    """The rows of a table file, a plain list of `V3Row`s that also knows each row's place in the file
    (`where`, e.g. "line 4"): `check_table` names a wrong row by the file's own line number."""

    def __init__(self, rows, where):
        super().__init__(rows)
        self.where = list(where)


def _records(path: Path, text: str) -> tuple[list, list[int]]:
    """(records, the file line of each: where it starts in YAML, where it ends in CSV) of a table file's text."""
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        records = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        items = node.value if isinstance(node, yaml.SequenceNode) else []
        return records, [item.start_mark.line + 1 for item in items]
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text, newline=""), skipinitialspace=True)
        records, lines = [], []
        for record in reader:
            records.append(record)
            lines.append(reader.line_num)  # the line this record ends on: its own line, for one-line rows
        return records, lines
    raise ValueError(f"table: got {path.name!r}, expected a .csv, .yaml or .yml file")


def read_table(path: str | Path) -> TableRows:
    """The rows of a CSV (header row with the paper's columns) or YAML (a list of mappings) table file.
    UTF-8, with or without the byte-order mark Excel writes."""
    if not isinstance(path, (str, Path)):
        raise ValueError(f"table: got {type(path).__name__}, expected the path of a .csv or .yaml file")
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"table: {str(path)!r} is a directory, expected a .csv or .yaml file")
    if not path.is_file():
        raise ValueError(f"table: {str(path)!r} does not exist, expected a .csv or .yaml file")
    try:
        records, lines = _records(path, path.read_text(encoding="utf-8-sig"))
    except ValueError as e:
        if str(e).startswith("table:"):
            raise
        raise ValueError(f"table: cannot parse {path.name} ({type(e).__name__}), expected CSV or YAML "
                         "with the paper's columns") from None
    except (OSError, csv.Error, _yaml_error()) as e:
        raise ValueError(f"table: cannot parse {path.name} ({type(e).__name__}), expected CSV or YAML "
                         "with the paper's columns") from None
    if not isinstance(records, list) or not records or not all(isinstance(r, dict) for r in records):
        raise ValueError(f"table: {path.name} holds no rows, expected a list of rows with columns {', '.join(COLUMNS)}")
    where = [f"line {n}" for n in lines]
    return TableRows((parse_row(r, f"{path.name} {w}") for r, w in zip(records, where)), where)


def _yaml_error() -> type:
    import yaml

    return yaml.YAMLError


def from_table(rows_or_path, num_classes: int = 1000) -> MobileNetV3:
    """Build the MobileNetV3-style network a table describes (rows as in `mnv3lib.configs.V3_LARGE`,
    or a table file). The paper's Table 1 gives exactly `mobilenet_v3_large()`; Table 2, as printed,
    gives `mobilenet_v3_small(as_printed=True)`.

    The table is checked as `check_table` checks it: rows in an order the builder reads, and each
    stated Input equal to what flows into the network built (at the first row's resolution); a
    contradiction raises `ShapeError` naming the row (by file line for a file)."""
    if isinstance(rows_or_path, (str, Path)):
        rows = read_table(rows_or_path)
    elif isinstance(rows_or_path, (list, tuple)):
        rows = rows_or_path
    else:
        raise ValueError(f"rows: got {type(rows_or_path).__name__}, expected a table file or a list of V3Row")
    if not rows or not all(isinstance(r, V3Row) for r in rows):
        raise ValueError(f"rows: got {sorted({type(r).__name__ for r in rows}) or 'no rows'}, expected V3Row rows")
    if rows[0].operator != "conv2d" or not any(r.operator == "bneck" for r in rows):
        raise ValueError("rows: expected a conv2d stem row followed by bneck rows")
    check_size(rows)
    model = MobileNetV3(list(rows), num_classes=num_classes)
    check_table(rows, rows[0].input[0] if rows[0].input else 224, model=model)
    return model
