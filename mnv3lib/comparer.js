// Chapter 5's comparer (see comparer.py): the chosen variants' records in a table, and each variant marked on the
// Pareto plot that matplotlib drew. Every number shown is a record computed by mnv3lib; this script only looks up.
// Same protocol as an explorer's static form (static_explorer.js): data-state, data-response-ms, mnv3Values().
window.mnv3Comparer = window.mnv3Comparer || function (root) {
  if (!root || root.dataset.ready) return;
  if (!document.getElementById("mnv3-comparer-style")) {
    const style = document.createElement("style");
    style.id = "mnv3-comparer-style";
    style.textContent = ".mnv3-comparer .mnv3-slot{display:flex;flex-wrap:wrap;gap:.3em 1em;margin:.2em 0}" +
      ".mnv3-comparer .mnv3-control{display:inline-flex;gap:.3em;align-items:center;white-space:nowrap}" +
      ".mnv3-comparer table{border-collapse:collapse;font-size:90%;margin:.5em 0}" +
      ".mnv3-comparer td,.mnv3-comparer th{padding:.15em .6em;text-align:right;border-bottom:1px solid #ddd}" +
      ".mnv3-comparer td:first-child,.mnv3-comparer th:first-child{text-align:left}" +
      ".mnv3-comparer .mnv3-view{overflow-x:auto}" +
      ".mnv3-mark{position:absolute;transform:translate(-50%,-50%);width:1.3em;height:1.3em;border-radius:50%;" +
      "color:#fff;font:bold 11px/1.3em sans-serif;text-align:center;border:2px solid #fff;pointer-events:none}" +
      ".mnv3-vline{position:absolute;width:0;border-left:2px dashed;pointer-events:none}";
    document.head.appendChild(style);
  }
  const data = JSON.parse(root.querySelector("script.mnv3-data").textContent);
  const view = root.querySelector(".mnv3-view");
  const plot = root.querySelector(".mnv3-plot");
  const inputs = [...root.querySelectorAll("[data-control]")];
  const colors = ["#1f77b4", "#9467bd", "#2ca02c"];
  const index = (el) => (el.type === "checkbox" ? (el.checked ? 1 : 0) : Number(el.value));
  const value = (i) => data.values[i][index(inputs[i])];
  const fmt = (x, digits) => (x === null || x === undefined ? "–" : Number(x).toFixed(digits));
  const place = (frame, x, y) => {
    const t = (v, lim, log) => (log ? (Math.log(v) - Math.log(lim[0])) / (Math.log(lim[1]) - Math.log(lim[0]))
      : (v - lim[0]) / (lim[1] - lim[0]));
    const fx = t(x, frame.xlim, frame.xlog);
    const left = frame.left + fx * (frame.right - frame.left);
    if (y === null) return { left, inside: fx >= 0 && fx <= 1 };
    const fy = t(y, frame.ylim, frame.ylog);
    return { left, top: frame.bottom - fy * (frame.bottom - frame.top), inside: fx >= 0 && fx <= 1 && fy >= 0 && fy <= 1 };
  };
  const show = () => {
    const start = performance.now();
    const chosen = [];
    for (let s = 0; s * 5 < inputs.length; s++) {
      const [family, width, res, se, nl] = [0, 1, 2, 3, 4].map((j) => value(5 * s + j));
      if (family === "none") continue;
      const v3 = family.startsWith("V3");
      const key = `${family}|${Number(width)}|${res}|${v3 && !se ? 0 : 1}|${v3 ? nl : "table"}`;
      chosen.push({ slot: "ABC"[s], key, rec: data.records[key] || null, family });
    }
    const facts = {};
    const rows = chosen.map((c) => {
      if (!c.rec) return `<tr><td>${c.slot}</td><td colspan="7">not in the grid: ${c.key}</td></tr>`;
      const r = c.rec;
      Object.assign(facts, { [`${c.slot} params`]: r.params, [`${c.slot} MAdds`]: r.madds, [`${c.slot} peak`]: r.peak,
        [`${c.slot} top-1`]: r.top1, [`${c.slot} ms`]: r.ms });
      return `<tr><td><b style="color:${colors["ABC".indexOf(c.slot)]}">${c.slot}</b> ${r.label}</td>` +
        `<td>${fmt(r.params / 1e6, 2)}</td><td>${fmt(r.madds / 1e6, 1)}</td><td>${fmt(r.peak / 1e3, 0)}</td>` +
        `<td>${r.top1 === null ? "–" : fmt(r.top1, 1)}</td><td>${r.ms === null ? "not measured" : fmt(r.ms, 2)}</td></tr>`;
    }).join("");
    const n = data.notes;
    view.innerHTML = `<p class="mnv3-facts" data-facts='${JSON.stringify(facts).replace(/'/g, "&#39;")}'>` +
      `${chosen.length} variant(s) compared</p><table><thead><tr><th>variant</th><th>params (M)</th>` +
      `<th>MAdds (M)</th><th>peak memory (KB)</th><th>${n.top1}</th><th>${n.ms}</th></tr></thead>` +
      `<tbody>${rows}</tbody></table>`;
    plot.querySelectorAll(".mnv3-mark, .mnv3-vline").forEach((m) => m.remove());
    chosen.filter((c) => c.rec).forEach((c) => {
      const color = colors["ABC".indexOf(c.slot)];
      [["madds_top1", c.rec.top1], ["madds_ms", c.rec.ms]].forEach(([name, y]) => {
        const frame = data.frames[name];
        const p = place(frame, c.rec.madds / 1e6, y);
        if (!p.inside && y !== null) return;
        const el = document.createElement("div");
        if (y === null) {  // no accuracy / no latency for this variant: a dashed line at its MAdds
          el.className = "mnv3-vline";
          Object.assign(el.style, { left: `${100 * p.left}%`, top: `${100 * frame.top}%`,
            height: `${100 * (frame.bottom - frame.top)}%`, borderColor: color });
        } else {
          el.className = "mnv3-mark";
          el.textContent = c.slot;
          Object.assign(el.style, { left: `${100 * p.left}%`, top: `${100 * p.top}%`, background: color });
        }
        el.dataset.slot = c.slot;
        el.dataset.frame = name;
        plot.appendChild(el);
      });
    });
    root.dataset.state = inputs.map(index).join(",");
    root.dataset.responseMs = (performance.now() - start).toFixed(2);
  };
  inputs.forEach((el) => el.addEventListener("change", show));
  root.mnv3Values = () => inputs.map((el, i) => data.values[i][index(el)]);
  show();
  root.dataset.ready = "1";
};
