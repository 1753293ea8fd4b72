"""Numbers in a chapter's prose come from its executed code: `glue` hands a computed value to myst-nb, and the
page's text pastes it with ``{glue:text}`key:format` ``. Where myst-nb is not installed (Colab) it does nothing."""
from __future__ import annotations

import numbers

__all__ = ["glue"]


def glue(name: str, value, display: bool = False):
    """myst-nb's `glue(name, value, display=False)` when myst-nb is installed, else nothing; returns `value`.
    Numbers are glued as plain Python numbers (a NumPy or torch scalar's text would not format)."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = int(value)
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = float(value)
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return value
    myst_glue(name, value, display=display)
    return value
