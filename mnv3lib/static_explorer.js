// The static form of an mnv3lib explorer (see static_explorer.py): every view was computed by Python when the
// chapter executed; moving a control shows the view of the selected combination. Nothing is fetched.
// The root element records, for tests and the curious, the current state and how long the last answer took.
window.mnv3Explorer = window.mnv3Explorer || function (root) {
  if (!root || root.dataset.ready) return;
  if (!document.getElementById("mnv3-explorer-style")) {
    const style = document.createElement("style");
    style.id = "mnv3-explorer-style";
    style.textContent = ".mnv3-controls{display:flex;flex-wrap:wrap;gap:.4em 1.2em;margin:.4em 0 .6em;" +
      "align-items:center}.mnv3-control{display:inline-flex;align-items:center;gap:.4em;white-space:nowrap}" +
      ".mnv3-control input[type=range]{width:9em;max-width:45vw}.mnv3-view img{max-width:100%;height:auto}" +
      ".mnv3-view{overflow-x:auto}.mnv3-error{color:#b00}";
    document.head.appendChild(style);
  }
  const data = JSON.parse(root.querySelector("script.mnv3-data").textContent);
  const view = root.querySelector(".mnv3-view");
  const inputs = [...root.querySelectorAll("[data-control]")];
  const index = (el) => (el.type === "checkbox" ? (el.checked ? 1 : 0) : Number(el.value));
  const show = () => {
    const start = performance.now();
    const key = inputs.map(index).join(",");
    inputs.forEach((el, i) => {
      const label = data.controls[i].labels[index(el)];
      const out = el.parentElement.querySelector("output");
      if (out) out.textContent = label;
      if (el.type === "range") el.setAttribute("aria-valuetext", label);
    });
    const parts = data.states[key];
    view.innerHTML = parts ? parts.map((p) => data.fragments[p]).join("") : "<pre class='mnv3-error'>no view</pre>";
    root.dataset.state = key;
    Promise.all([...view.querySelectorAll("img")].map((img) => img.decode().catch(() => null))).then(() => {
      root.dataset.responseMs = (performance.now() - start).toFixed(2);
      root.dispatchEvent(new CustomEvent("mnv3-shown", { detail: key }));
    });
  };
  inputs.forEach((el) => el.addEventListener(el.type === "range" ? "input" : "change", show));
  root.mnv3Values = () => inputs.map((el, i) => data.values[i][index(el)]);
  root.dataset.ready = "1";
};
