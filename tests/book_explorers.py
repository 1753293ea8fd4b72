"""Drive every explorer of the built book the way a reader does (issue 12), in headless Chromium at a phone's width.

For each explorer (`div.mnv3-explorer`, the static form mnv3lib.widgets writes) every control is moved to at
least three of its values, both extremes included, with the mouse-free actions a reader's browser performs (fill a
range input, pick an option, tick a box), and once with the keyboard. Each move records what the page shows then:
the state key, the control values, the numbers in `data-facts`, whether the view changed, how long the page took
to show it (measured by the page: event to images decoded), and any network request the move caused.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

PHONE = {"width": 390, "height": 844}


@dataclass
class Move:
    control: str
    value: object
    state: str
    values: list
    facts: dict | None
    changed: bool
    response_ms: float
    requests: list[str]


@dataclass
class ExplorerRun:
    page: str
    name: str
    states: int
    controls: list[dict]
    moves: list[Move] = field(default_factory=list)
    keyboard_changed: bool | None = None
    layout_problems: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


_READ = """(root) => {
  const facts = root.querySelector('.mnv3-view .mnv3-facts');
  return {state: root.dataset.state, values: root.mnv3Values(), html: root.querySelector('.mnv3-view').innerHTML,
          facts: facts ? JSON.parse(facts.dataset.facts) : null, ms: Number(root.dataset.responseMs || 'NaN')};
}"""

# Controls out of reach or an output cut off at a phone's width.
_LAYOUT = """(root) => {
  const width = document.documentElement.clientWidth, problems = [];
  root.querySelectorAll('[data-control]').forEach((el) => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.left < -1 || r.right > width + 1) problems.push(`control ${el.id} is outside the screen`);
    if (!el.labels || !el.labels.length || !el.labels[0].textContent.trim()) problems.push(`control ${el.id} has no label`);
  });
  root.querySelectorAll('.mnv3-view img').forEach((img) => {
    const r = img.getBoundingClientRect();
    if (r.right > width + 1) problems.push(`a figure ${Math.round(r.width)} px wide overflows the ${width} px screen`);
  });
  return problems;
}"""


def _targets(n: int) -> list[int]:
    """At least three positions of a control with n values (all when n <= 3), both extremes included."""
    return sorted({0, n // 2, n - 1}) if n > 3 else list(range(n))


def drive(context, url: str, path: str, timeout_ms: int = 30_000) -> list[ExplorerRun]:
    tab = context.new_page()
    requests: list[str] = []
    tab.on("request", lambda req: requests.append(req.url))
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    runs = []
    try:
        tab.goto(url, wait_until="load", timeout=timeout_ms)
        for k, root in enumerate(tab.locator("div.mnv3-explorer").all()):
            root.scroll_into_view_if_needed()
            data = json.loads(root.locator("script.mnv3-data").text_content())
            run = ExplorerRun(path, data["name"], int(root.get_attribute("data-states")), data["controls"])
            run.layout_problems = root.evaluate(_LAYOUT)
            for i, control in enumerate(data["controls"]):
                el = root.locator(f'[data-control="{i}"]')
                for target in _targets(len(control["labels"])):
                    before = root.evaluate(_READ)
                    current = [int(x) for x in before["state"].split(",")][i]
                    if target == current:
                        continue
                    requests.clear()
                    root.evaluate("(r) => { r.dataset.responseMs = ''; }")
                    if control["kind"] == "checkbox":
                        el.set_checked(bool(target))
                    elif control["kind"] in ("select", "radio"):
                        el.select_option(str(target))
                    else:
                        el.fill(str(target))
                    tab.wait_for_function("(r) => r.dataset.responseMs !== ''", arg=root.element_handle(),
                                          timeout=timeout_ms)
                    after = root.evaluate(_READ)
                    run.moves.append(Move(control["name"], data["values"][i][target], after["state"], after["values"],
                                          after["facts"], after["html"] != before["html"], after["ms"],
                                          list(requests)))
            # the keyboard: focus the first control and step it once
            first = root.locator('[data-control="0"]')
            before = root.evaluate(_READ)["state"]
            first.focus()
            kind = data["controls"][0]["kind"]
            key = "Space" if kind == "checkbox" else ("ArrowLeft" if before.split(",")[0] != "0" else "ArrowRight")
            tab.keyboard.press(key)
            tab.wait_for_timeout(100)
            run.keyboard_changed = root.evaluate(_READ)["state"] != before
            run.errors = list(errors)
            runs.append(run)
    finally:
        tab.close()
    return runs


def drive_all(base_url: str, paths: list[str], chromium: str, flags: list[str], route) -> list[ExplorerRun]:
    """Every explorer on `paths`, in one browser at a phone's width."""
    from playwright.sync_api import sync_playwright

    runs = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=flags, headless=True)
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        context.route("**/*", route)
        try:
            for path in paths:
                runs += drive(context, base_url + path, path)
        finally:
            context.close()
            browser.close()
    return runs
