"""Plain tables for the terminal and for notebooks, without pandas (used by costs and papers)."""
from __future__ import annotations

from html import escape


def fmt(v) -> str:
    """Integers with thousands separators, floats to 4 significant digits, shapes as C×H×W."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 10_000 else f"{v:.4g}"
    if isinstance(v, tuple):
        return "×".join(map(str, v))
    return str(v)


def _is_number(c) -> bool:
    if isinstance(c, (int, float)) or c in ("", None):
        return True
    try:
        float(str(c).replace(",", ""))
        return True
    except ValueError:
        return False


def _numeric(rows, i) -> bool:
    return all(_is_number(r[i]) for r in rows)


def text_table(headers: list[str], rows: list[list]) -> str:
    """Monospace columns, numbers right-aligned."""
    cells = [list(headers)] + [[fmt(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    right = [_numeric(rows, i) for i in range(len(headers))]

    def line(r):
        return "  ".join(c.rjust(w) if n else c.ljust(w) for c, w, n in zip(r, widths, right)).rstrip()
    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths), *map(line, cells[1:])])


def html_table(headers: list[str], rows: list[list], caption: str = "") -> str:
    """The same table as HTML, for `_repr_html_`."""
    right = [_numeric(rows, i) for i in range(len(headers))]
    # inline padding: book themes and notebook front ends otherwise run the columns together
    td = lambda c, r: f'<td style="text-align:{"right" if r else "left"};padding:1px 8px">{escape(fmt(c))}</td>'  # noqa: E731
    head = "".join(f'<th style="padding:1px 8px">{escape(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(td(c, r) for c, r in zip(row, right)) + "</tr>" for row in rows)
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class Table:
    """A small table of already-computed values: aligned text in a terminal, HTML in a notebook.

    The same renderer as mnv3lib's cost and paper tables, for the chapters' own numbers
    (`mnv3lib.Table(headers, rows, caption)`), so no chapter writes HTML by hand.
    """

    def __init__(self, headers: list[str], rows: list[list], caption: str = ""):
        self.headers, self.rows, self.caption = list(headers), [list(r) for r in rows], caption
        if any(len(r) != len(self.headers) for r in self.rows):
            bad = next(i for i, r in enumerate(self.rows) if len(r) != len(self.headers))
            raise ValueError(f"rows: row {bad} has {len(self.rows[bad])} cells, expected {len(self.headers)} "
                             "(one per header)")

    def __len__(self) -> int:
        return len(self.rows)

    def __str__(self) -> str:
        return (f"{self.caption}\n" if self.caption else "") + text_table(self.headers, self.rows)

    def _repr_html_(self) -> str:
        return html_table(self.headers, self.rows, self.caption)
