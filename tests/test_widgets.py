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


def _static_payload(html):
    import json
    import re

    data = re.search(r'<script type="application/json" class="mnv3-data">(.*?)</script>', html).group(1)
    return json.loads(data.replace("<\\/", "</"))


def test_the_static_form_holds_every_setting_keyed_by_control_positions():
    def update(a, b, on):
        return f"a={a} b={b} on={on}"

    ex = widgets.explorer(update, facts=lambda a, b, on: {"sum": a + b}, name="grid",
                          a=w.SelectionSlider(options=[1, 2, 3], value=2), b=w.IntSlider(value=10, min=10, max=30,
                                                                                          step=10),
                          on=w.Checkbox(value=True, description="on"))
    html = ex.static_html()
    payload = _static_payload(html)
    assert payload["name"] == "grid" and len(payload["states"]) == 18
    assert payload["values"] == [[1, 2, 3], [10, 20, 30], [False, True]]
    for key, parts in payload["states"].items():
        i, j, k = map(int, key.split(","))
        a, b, on = payload["values"][0][i], payload["values"][1][j], payload["values"][2][k]
        shown = "".join(payload["fragments"][p] for p in parts)
        assert f"a={a} b={b} on={on}" in shown and f"data-facts=\"{{&quot;sum&quot;:{a + b}}}\"" in shown
    assert 'data-state="1,0,1"' in html  # the controls' current values, shown first
    assert ex.explorable == "grid"


def test_identical_views_are_stored_once():
    ex = widgets.explorer(lambda n: "same view", n=w.IntSlider(value=1, min=1, max=50))
    payload = _static_payload(ex.static_html())
    assert len(payload["states"]) == 50 and len(payload["fragments"]) == 1


def test_a_grid_too_large_for_the_page_is_refused_in_one_line():
    ex = widgets.explorer(lambda a, b: "x", name="huge", a=w.IntSlider(value=0, min=0, max=99),
                          b=w.IntSlider(value=0, min=0, max=9))
    with pytest.raises(ValueError) as err:
        ex.static_html()
    msg = str(err.value)
    assert msg == ("explorer 'huge': 1,000 combinations of its controls (a 100 × b 10), expected at most 256 for the "
                   "static page: give its controls fewer values") and "\n" not in msg


def test_a_setting_that_fails_shows_its_error_in_the_static_form_too():
    def update(k):
        if k == 0:
            raise ValueError("k: got 0, expected k >= 1")
        return f"k = {k}"

    payload = _static_payload(widgets.explorer(update, k=w.IntSlider(value=2, min=0, max=3)).static_html())
    assert "ValueError: k: got 0, expected k &gt;= 1" in payload["fragments"][payload["states"]["0"][0]]


def test_controls_without_discrete_values_are_refused():
    ex = widgets.explorer(lambda t: t, t=w.Text(value="x"))
    with pytest.raises(ValueError, match=r"controls: t=Text has no discrete values"):
        ex.static_html()


@pytest.mark.parametrize("env, live, expected", [({"MNV3LIB_STATIC": "1", "JPY_SESSION_NAME": "x"}, False, True),
                                                 ({"MNV3LIB_STATIC": "0"}, False, False),
                                                 ({}, False, True), ({"JPY_SESSION_NAME": "a.ipynb"}, False, False)])
def test_the_static_form_is_computed_only_where_no_live_frontend_runs(monkeypatch, env, live, expected):
    for k in ("MNV3LIB_STATIC", "JPY_SESSION_NAME"):
        monkeypatch.delenv(k, raising=False)
    for k in [k for k in __import__("os").environ if k.startswith("VSCODE_")]:
        monkeypatch.delenv(k)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert widgets.static_form_wanted() is expected
    bundle = widgets.explorer(lambda n: f"n={n}", n=w.IntSlider(value=1, min=1, max=3))._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert ("text/html" in bundle) is expected


def test_facts_are_shown_in_the_live_view_too():
    ex = widgets.explorer(lambda n: f"n={n}", facts=lambda n: {"params": 1234567, "ratio": 0.123456}, n=w.IntSlider(
        value=1, min=1, max=3))
    head = ex.output.outputs[0]["data"]["text/html"]
    assert head.startswith('<p class="mnv3-facts"') and "params: 1,234,567 · ratio: 0.1235" in head


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
    used = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("ipywidgets")
            for a in n.names}
    assert used and used <= IPYWIDGETS_7_7, used - IPYWIDGETS_7_7
    assert not any(isinstance(n, ast.Import) and any(a.name.startswith("ipywidgets") for a in n.names)
                   for n in ast.walk(tree))


def test_in_a_kernel_the_explorer_carries_its_live_and_static_forms():
    """What the book relies on: executed by nbclient (as myst-nb does), an explorer's output holds the widget view
    and the static HTML form, the saved widget state holds the current view, and a viz figure shows exactly once."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    cells = [
        "import matplotlib.pyplot as plt, ipywidgets as w\nfrom mnv3lib import widgets\n"
        "def update(n):\n    fig, ax = plt.subplots(figsize=(2, 2))\n    ax.plot(range(n))\n    return fig\n"
        "n = w.IntSlider(value=2, min=1, max=4)\n"
        "ex = widgets.explorer(update, **{'n': n})\nex",
        "n.value = 3\nex.calls, len(plt.get_fignums())",
        "%matplotlib inline\nfrom mnv3lib import viz\nviz.classic_bottleneck_diagram()",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    first, second, figure = nb.cells
    [out] = first.outputs
    assert out["output_type"] == "execute_result"
    assert "application/vnd.jupyter.widget-view+json" in out["data"]
    payload = _static_payload(out["data"]["text/html"])
    assert len(payload["states"]) == 4 and all(f.startswith('<img class="mnv3-figure"') for f in payload["fragments"])
    assert second.outputs[0]["data"]["text/plain"] == "(2, 0)"  # redrawn once; no figure left open
    assert [(o["output_type"], "image/png" in o["data"]) for o in figure.outputs] == [("execute_result", True)]
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    models = {m["model_name"]: m["state"] for m in state.values()}
    assert models["IntSliderModel"]["value"] == 3
