"""mnv3lib.widgets: explorers driven through ipywidgets itself (no browser), and in a real kernel."""
import ast
import base64
import inspect

import matplotlib

matplotlib.use("Agg")

import ipywidgets as w  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import mnv3lib  # noqa: E402
from mnv3lib import widgets  # noqa: E402
from mnv3lib.costs import cost_table  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


class Recorder:
    """An update function that remembers its calls and draws its arguments into a pyplot figure
    it does not close (as a chapter's quick update might)."""

    def __init__(self):
        self.calls = []

    def __call__(self, **values):
        self.calls.append(values)
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.set_title(repr(sorted(values.items())))
        ax.plot([0, 1], [0, len(self.calls)])
        return fig


def pngs(outputs) -> list[bytes]:
    return [base64.b64decode(o["data"]["image/png"]) for o in outputs if "image/png" in o.get("data", {})]


@pytest.fixture(autouse=True)
def _no_open_figures():
    plt.close("all")
    yield
    assert plt.get_fignums() == [], "a figure was left open in pyplot"


def controls_and_new_values():
    """One of each basic control, fresh for each test, with a value to change it to."""
    return {
        "n": (w.IntSlider(value=2, min=1, max=8), 5),
        "t": (w.FloatSlider(value=6.0, min=1.0, max=8.0), 3.5),
        "size": (w.SelectionSlider(options=[128, 160, 192, 224], value=224), 160),
        "arch": (w.Dropdown(options=["large", "small"], value="large"), "small"),
        "se": (w.Checkbox(value=True, description="SE"), False),
        "nl": (w.ToggleButtons(options=["RE", "HS"], value="HS"), "RE"),
    }


@pytest.mark.parametrize("changed", ["n", "t", "size", "arch", "se", "nl"])
def test_changing_a_control_redraws_with_the_new_value(changed):
    pairs = controls_and_new_values()
    controls = {k: c for k, (c, _) in pairs.items()}
    defaults = {k: c.value for k, c in controls.items()}
    update = Recorder()
    ex = widgets.explorer(update, **controls)
    assert update.calls == [defaults] and ex.calls == 1
    first = pngs(ex.output.outputs)
    assert len(first) == 1 and first[0].startswith(PNG)
    controls[changed].value = pairs[changed][1]
    assert update.calls[-1] == {**defaults, changed: pairs[changed][1]} and ex.calls == 2
    second = pngs(ex.output.outputs)
    assert len(second) == 1 and second[0].startswith(PNG) and second != first
    assert ex.children[1] is ex.output and list(ex.children[0].children) == list(controls.values())


def test_explorer_shows_tables_and_several_views():
    def update(width):
        model = mnv3lib.mobilenet_v3_small(width_mult=width)
        fig, ax = plt.subplots(figsize=(2, 2))
        ax.bar([0], [width])
        return fig, cost_table(model, 224)

    slider = w.SelectionSlider(options=[0.5, 0.75, 1.0], value=1.0)
    ex = widgets.explorer(update, width=slider)
    kinds = [next(k for k in o["data"] if k != "text/plain") for o in ex.output.outputs]
    assert kinds == ["image/png", "text/html"]
    html = ex.output.outputs[1]["data"]["text/html"]
    assert f"{cost_table(mnv3lib.mobilenet_v3_small(), 224).total_madds:,}" in html
    slider.value = 0.5
    assert f"{cost_table(mnv3lib.mobilenet_v3_small(width_mult=0.5), 224).total_madds:,}" in \
        ex.output.outputs[1]["data"]["text/html"]


def test_a_figure_drawn_with_pyplot_and_not_returned_is_shown_and_closed():
    def update(k):
        plt.plot(range(k))

    ex = widgets.explorer(update, k=w.IntSlider(value=3, min=2, max=9))
    assert len(pngs(ex.output.outputs)) == 1


def test_a_failing_setting_shows_its_error_and_the_explorer_recovers():
    def update(k):
        if k == 0:
            raise ValueError("k: got 0, expected k >= 1")
        return f"k = {k}"

    slider = w.IntSlider(value=2, min=0, max=5)
    ex = widgets.explorer(update, k=slider)
    assert ex.output.outputs[0]["data"]["text/plain"] == "'k = 2'"
    slider.value = 0
    assert ex.output.outputs == ({"output_type": "stream", "name": "stderr",
                                  "text": "ValueError: k: got 0, expected k >= 1\n"},)
    slider.value = 4
    assert ex.output.outputs[0]["data"]["text/plain"] == "'k = 4'"


def test_explorer_rejects_bad_controls():
    with pytest.raises(ValueError, match="controls: got none"):
        widgets.explorer(Recorder())
    with pytest.raises(ValueError, match=r"controls: n=3 is not a value widget, expected an ipywidgets control"):
        widgets.explorer(Recorder(), n=3)
    with pytest.raises(ValueError, match="controls: box=HBox"):
        widgets.explorer(Recorder(), box=w.HBox())


def test_static_view_displays_the_default_view(monkeypatch):
    shown = []
    monkeypatch.setattr(widgets, "display", lambda data, metadata=None, raw=False: shown.append((data, raw)))
    update = Recorder()
    widgets.static_view(update, n=w.IntSlider(value=4), label="default")
    assert update.calls == [{"n": 4, "label": "default"}]  # a control stands for its value
    assert len(shown) == 1 and shown[0][1] is True
    assert base64.b64decode(shown[0][0]["image/png"]).startswith(PNG)


def test_render_turns_objects_into_notebook_outputs():
    fig = plt.figure(figsize=(1, 1))
    outs = widgets.render([fig, "text", None])
    assert [o["output_type"] for o in outs] == ["display_data", "display_data"]
    assert pngs(outs)[0].startswith(PNG) and outs[1]["data"] == {"text/plain": "'text'"}
    assert not plt.fignum_exists(fig.number)


# The ipywidgets names that exist in 7.7 (Colab) as in 8; widgets.py may use nothing else.
IPYWIDGETS_7_7 = {"HBox", "VBox", "Layout", "Output", "Widget", "interactive_output", "IntSlider", "FloatSlider",
                  "SelectionSlider", "Dropdown", "Checkbox", "ToggleButtons"}


def test_widgets_uses_only_api_shared_by_ipywidgets_7_and_8():
    tree = ast.parse(inspect.getsource(widgets))
    used = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module.startswith("ipywidgets")
            for a in n.names}
    assert used and used <= IPYWIDGETS_7_7, used - IPYWIDGETS_7_7
    assert not any(isinstance(n, ast.Import) and any(a.name.startswith("ipywidgets") for a in n.names)
                   for n in ast.walk(tree))


def test_in_a_kernel_the_saved_widget_state_holds_the_view():
    """What the book relies on: executed by nbclient (as myst-nb does), the notebook's saved widget
    state holds the explorer's current view as a PNG, static_view leaves a plain PNG output, and a
    viz figure is shown exactly once."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    cells = [
        "import matplotlib.pyplot as plt, ipywidgets as w\nfrom mnv3lib import widgets\n"
        "def update(n):\n    fig, ax = plt.subplots(figsize=(2, 2))\n    ax.plot(range(n))\n    return fig\n"
        "n = w.IntSlider(value=2, min=1, max=9)\nwidgets.static_view(update, n=n)\n"
        "ex = widgets.explorer(update, n=n)\nex",
        "n.value = 7\nex.calls, len(plt.get_fignums())",
        "%matplotlib inline\nfrom mnv3lib import viz\nviz.classic_bottleneck_diagram()",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    first, second, figure = nb.cells
    assert [o["output_type"] for o in first.outputs] == ["display_data", "execute_result"]
    assert base64.b64decode(first.outputs[0]["data"]["image/png"]).startswith(PNG)
    assert "application/vnd.jupyter.widget-view+json" in first.outputs[1]["data"]
    assert second.outputs[0]["data"]["text/plain"] == "(2, 0)"  # redrawn once; no figure left open
    # a viz figure shows once, as the cell's value (closed in pyplot, so the backend adds no copy)
    assert [(o["output_type"], "image/png" in o["data"]) for o in figure.outputs] == [("execute_result", True)]
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    models = {m["model_name"]: m["state"] for m in state.values()}
    assert models["IntSliderModel"]["value"] == 7
    [out] = models["OutputModel"]["outputs"]
    assert base64.b64decode(out["data"]["image/png"]).startswith(PNG)
