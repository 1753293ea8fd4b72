"""Explorables for the chapters: a few controls driving a figure or a table.

    controls = dict(alpha=Dropdown(options=[1.0, 0.75, 0.5, 0.25], value=1.0),
                    size=SelectionSlider(options=[128, 160, 192, 224], value=224))
    static_view(update, **controls)   # the default view as a plain figure: the online book shows it
    explorer(update, **controls)      # the live controls (need a running kernel)

`update(**values)` returns a matplotlib Figure, anything IPython can display (a table with
`_repr_html_`, a string, ...), a tuple / list of those, or None after drawing with pyplot.

Only ipywidgets API that exists in both 7.7 (Colab's) and 8 is used: the value widgets the caller
passes, HBox / VBox / Layout, Output and its `outputs` trait, and traitlets' `observe`. The views
are written into `Output.outputs` as ready-made display data (a PNG for a figure) rather than
captured with `with output:`, which needs a frontend to do the capturing: so the view is the same in
JupyterLab, Colab (whose Output widget renders that trait), the book's saved widget state, and tests.
"""
from __future__ import annotations

import base64
import io
import sys

from IPython.display import display
from ipywidgets import HBox, Layout, Output, VBox, Widget

__all__ = ["explorer", "static_view", "render", "Explorer"]


def _figure_class():
    mpl = sys.modules.get("matplotlib.figure")  # no matplotlib loaded: no figure to recognise
    return mpl.Figure if mpl else ()


def _open_figures() -> dict:
    plt = sys.modules.get("matplotlib.pyplot")
    return {n: plt.figure(n) for n in plt.get_fignums()} if plt else {}


def _formatter():
    from IPython import get_ipython
    from IPython.core.formatters import DisplayFormatter

    shell = get_ipython()
    return shell.display_formatter if shell is not None else DisplayFormatter()


def render(obj) -> tuple[dict, ...]:
    """`obj` as notebook display outputs (nbformat `display_data` dicts). A Figure becomes a PNG
    (drawn like the inline backend: tight bounding box) and is closed."""
    if obj is None:
        return ()
    if isinstance(obj, (tuple, list)):
        return tuple(o for item in obj for o in render(item))
    if isinstance(obj, _figure_class()):
        buf = io.BytesIO()
        obj.savefig(buf, format="png", bbox_inches="tight")
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            plt.close(obj)  # shown once, here; never again by the inline backend, and no leak
        data = {"image/png": base64.b64encode(buf.getvalue()).decode("ascii"), "text/plain": repr(obj)}
        return ({"output_type": "display_data", "data": data, "metadata": {}},)
    data, metadata = _formatter().format(obj)
    # binary mime types travel as base64 text, as in a saved notebook
    data = {k: base64.b64encode(v).decode("ascii") if isinstance(v, bytes) else v for k, v in data.items()}
    return ({"output_type": "display_data", "data": data, "metadata": metadata},)


def _view(update, values: dict) -> tuple[dict, ...]:
    """Call `update`; render what it returns plus any pyplot figure it opened and left open."""
    before = set(_open_figures())
    try:
        result = update(**values)
    finally:
        left = [f for n, f in _open_figures().items() if n not in before]
    shown = result if isinstance(result, (tuple, list)) else (result,)
    extra = [f for f in left if not any(f is s for s in shown)]
    return render([*shown, *extra])


def _values(controls: dict) -> dict:
    return {k: (w.value if isinstance(w, Widget) else w) for k, w in controls.items()}


class Explorer(VBox):
    """The controls (in a wrapping row) above the output; `controls` maps each `update` argument to
    its widget, `output` holds the current view, `calls` counts the renders."""

    def __init__(self, update, controls: dict):
        self.view_function, self.controls, self.output, self.calls = update, dict(controls), Output(), 0
        row = HBox(list(self.controls.values()), layout=Layout(flex_flow="row wrap"))
        super().__init__([row, self.output])
        self.output.outputs = _view(update, _values(self.controls))  # an error here is the author's: raise it
        self.calls = 1
        for w in self.controls.values():
            w.observe(self._changed, names="value")

    def _changed(self, change=None) -> None:
        try:
            outputs = _view(self.view_function, _values(self.controls))
        except Exception as e:  # a reader's setting that fails: say why in place of the view
            outputs = ({"output_type": "stream", "name": "stderr", "text": f"{type(e).__name__}: {e}\n"},)
        self.calls += 1
        self.output.outputs = outputs


def explorer(update, **controls) -> Explorer:
    """A widget: the controls, and below them the view `update(**values)` returns, redrawn whenever
    a control changes. Each control is an ipywidgets value widget (IntSlider, FloatSlider,
    SelectionSlider, Dropdown, Checkbox, ToggleButtons, ...) named after `update`'s argument. For
    a slow view, give sliders `continuous_update=False` so it redraws once, on release."""
    if not callable(update):
        raise ValueError(f"update: got {type(update).__name__} {update!r:.40}, expected a function returning the view")
    if not controls:
        raise ValueError("controls: got none, expected at least one, e.g. alpha=Dropdown(options=[1.0, 0.5])")
    for name, w in controls.items():
        if not (isinstance(w, Widget) and hasattr(w, "value")):
            raise ValueError(f"controls: {name}={w!r} is not a value widget, expected an ipywidgets control "
                             "such as IntSlider, FloatSlider, SelectionSlider, Dropdown, Checkbox or ToggleButtons")
    return Explorer(update, controls)


def static_view(update, **defaults) -> None:
    """Display `update(**defaults)` as plain outputs (a PNG for a figure): what the online book,
    which has no kernel, shows of an explorer. A default may be a control: its current value is used."""
    for out in _view(update, _values(defaults)):
        if out["output_type"] == "display_data":
            display(out["data"], metadata=out["metadata"], raw=True)
