"""Explorables for the chapters: a few controls driving a figure or a table, defined once.

    controls = dict(alpha=Dropdown(options=[1.0, 0.75, 0.5, 0.25], value=1.0),
                    size=SelectionSlider(options=[128, 160, 192, 224], value=224))
    explorer(update, **controls)      # live with a kernel, and live on the static book page

`update(**values)` returns a matplotlib Figure, anything IPython can display (a table with
`_repr_html_`, a string, ...), a tuple / list of those, or None after drawing with pyplot.
`facts(**values)`, optional, returns the view's key numbers as a dict: they are shown above it and
carried in a `data-facts` attribute, so a reader (and the book's browser test) can read them.

One definition, two forms. With a kernel (JupyterLab, Colab, Binder) the explorer is an ipywidget
whose callback redraws. Displayed where no frontend runs it (the book's build, the tests), it also
carries a static form (`static_explorer`): the view of every combination of the controls' values,
computed here by the same `update`, and a small script that swaps them — so the published page
answers every control with exactly mnv3lib's numbers. The book prefers that form (`_config.yml`:
`nb_mime_priority_overrides`); a live frontend prefers the widget. Controls must therefore take
discrete values (sliders with a step, Dropdown, SelectionSlider, ToggleButtons, Checkbox), and the
grid is bounded (`static_explorer.MAX_STATES`).

Only ipywidgets API that exists in both 7.7 (Colab's) and 8 is used: the value widgets the caller
passes, HBox / VBox / Layout, Output and its `outputs` trait, and traitlets' `observe`. The views
are written into `Output.outputs` as ready-made display data (a PNG for a figure) rather than
captured with `with output:`, which needs a frontend to do the capturing: so the view is the same in
JupyterLab, Colab (whose Output widget renders that trait), the book's saved widget state, and tests.
"""
from __future__ import annotations

import base64
import html
import io
import json
import os
import sys

from ipywidgets import HBox, Layout, Output, VBox, Widget

__all__ = ["explorer", "render", "Explorer", "facts_output", "static_form_wanted"]


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
        buf = _palette_png(buf.getvalue())
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            plt.close(obj)  # shown once, here; never again by the inline backend, and no leak
        data = {"image/png": base64.b64encode(buf.getvalue()).decode("ascii"), "text/plain": repr(obj)}
        return ({"output_type": "display_data", "data": data, "metadata": {}},)
    data, metadata = _formatter().format(obj)
    # binary mime types travel as base64 text, as in a saved notebook
    data = {k: base64.b64encode(v).decode("ascii") if isinstance(v, bytes) else v for k, v in data.items()}
    return ({"output_type": "display_data", "data": data, "metadata": metadata},)


def _palette_png(png: bytes) -> io.BytesIO:
    """The figure as a 256-colour PNG: a third of the bytes for line and bar charts, which matters when a static
    page carries a view for every setting. Without Pillow (matplotlib depends on it), the PNG as drawn."""
    try:
        from PIL import Image
    except ImportError:
        return io.BytesIO(png)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    out = io.BytesIO()
    palette = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    palette.save(out, "PNG", optimize=True)
    return out


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


def _format_fact(value) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 1000:
        return f"{int(value):,}"
    return f"{value:.4g}"


def facts_output(facts: dict) -> dict:
    """The view's key numbers as one HTML display output: readable text, and the exact values in `data-facts`."""
    text = " · ".join(f"{html.escape(str(k))}: {html.escape(_format_fact(v))}" for k, v in facts.items())
    attr = html.escape(json.dumps(facts, separators=(",", ":")), quote=True)
    return {"output_type": "display_data", "metadata": {},
            "data": {"text/html": f'<p class="mnv3-facts" data-facts="{attr}">{text}</p>', "text/plain": text}}


def _full_view(update, facts, values: dict) -> tuple[dict, ...]:
    head = (facts_output(facts(**values)),) if facts is not None else ()
    return head + _view(update, values)


def _error_output(e: Exception) -> tuple[dict, ...]:
    return ({"output_type": "stream", "name": "stderr", "text": f"{type(e).__name__}: {e}\n"},)


def static_form_wanted() -> bool:
    """Whether a displayed explorer also computes its static form: yes where no live frontend will run it (the
    book's build, the tests, a script); no in JupyterLab / Notebook (a server-started kernel), Colab or VS Code,
    where the widget answers and precomputing every setting would only delay the reader. MNV3LIB_STATIC=1 / 0
    overrides the guess."""
    forced = os.environ.get("MNV3LIB_STATIC", "").strip().lower()
    if forced in {"1", "true", "yes"}:
        return True
    if forced in {"0", "false", "no"}:
        return False
    live = ("JPY_SESSION_NAME" in os.environ or "google.colab" in sys.modules
            or any(k.startswith("VSCODE_") for k in os.environ))
    return not live


class Explorer(VBox):
    """The controls (in a wrapping row) above the output; `controls` maps each `update` argument to
    its widget, `output` holds the current view, `calls` counts the renders."""

    def __init__(self, update, controls: dict, facts=None, name: str | None = None):
        self.view_function, self.facts, self.controls, self.output, self.calls = update, facts, dict(controls), \
            Output(), 0
        self.explorable = name or getattr(update, "__name__", "explorer")
        row = HBox(list(self.controls.values()), layout=Layout(flex_flow="row wrap"))
        super().__init__([row, self.output])
        # an error in the first view is the author's: raise it
        self.output.outputs = _full_view(update, facts, _values(self.controls))
        self.calls = 1
        for w in self.controls.values():
            w.observe(self._changed, names="value")

    def _changed(self, change=None) -> None:
        try:
            outputs = _full_view(self.view_function, self.facts, _values(self.controls))
        except Exception as e:  # a reader's setting that fails: say why in place of the view
            outputs = _error_output(e)
        self.calls += 1
        self.output.outputs = outputs

    def static_html(self) -> str:
        """The static form: every combination of the controls' values, precomputed (see static_explorer)."""
        from . import static_explorer

        specs = [static_explorer.control_spec(k, w) for k, w in self.controls.items()]

        def view(values):
            try:
                return _full_view(self.view_function, self.facts, values)
            except Exception as e:  # the live form shows a setting's error in place of its view: so does this
                return _error_output(e)

        return static_explorer.build(self.explorable, specs, view)

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        if static_form_wanted():
            data = bundle[0] if isinstance(bundle, tuple) else bundle
            data["text/html"] = self.static_html()
        return bundle


def explorer(update, *, facts=None, name: str | None = None, **controls) -> Explorer:
    """A widget: the controls, and below them the view `update(**values)` returns (after the numbers
    `facts(**values)` returns, if given), redrawn whenever a control changes. Each control is an
    ipywidgets value widget with discrete values (IntSlider, FloatSlider, SelectionSlider, Dropdown,
    Checkbox, ToggleButtons) named after `update`'s argument. `name` identifies the explorer on the
    page (default: the function's name). For a slow view, give sliders `continuous_update=False`."""
    if not callable(update):
        raise ValueError(f"update: got {type(update).__name__} {update!r:.40}, expected a function of the controls' "
                         "values that returns the view")
    if facts is not None and not callable(facts):
        raise ValueError(f"facts: got {facts!r}, expected None or a function of the controls' values returning a dict")
    if not controls:
        raise ValueError("controls: got none, expected at least one, e.g. alpha=Dropdown(options=[1.0, 0.5])")
    for key, w in controls.items():
        if not (isinstance(w, Widget) and hasattr(w, "value")):
            raise ValueError(f"controls: {key}={w!r} is not a value widget, expected an ipywidgets control "
                             "such as IntSlider, FloatSlider, SelectionSlider, Dropdown, Checkbox or ToggleButtons")
    return Explorer(update, controls, facts=facts, name=name)
