// The "on this device" panels (see on_device.py): the networks run in the page with onnxruntime-web (WebAssembly, one
// thread), loaded lazily from the pinned CDN file. Failures are shown in the panel's status line, never thrown.
// Test hooks on each panel's root: mnv3Run(name, Float32Array) → logits; on the draw panel also mnv3Pixels(),
// mnv3Preprocessed() and mnv3Classify(). The digit is made as mnv3lib.on_device.canvas_to_digit makes it, and
// preprocessed as mnv3lib.data.preprocess specifies (bilinear, align_corners=False, then (x − 0.5) / 0.5, 3 channels).
window.mnv3OnDevice = window.mnv3OnDevice || (function () {
  let ortPromise = null;
  const OPTIONS = { executionProviders: ["wasm"], graphOptimizationLevel: "all" };
  const firstLine = (e) => String((e && e.message) || e).split("\n")[0].slice(0, 160);
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

  function style() {
    if (document.getElementById("mnv3-ondevice-style")) return;
    const el = document.createElement("style");
    el.id = "mnv3-ondevice-style";
    el.textContent = ".mnv3-ondevice{max-width:100%;margin:.6em 0}.mnv3-ondevice .mnv3-status{margin:.3em 0}" +
      ".mnv3-ondevice .mnv3-bad{color:#b00}.mnv3-ondevice progress{width:10em;max-width:50vw;vertical-align:middle}" +
      ".mnv3-scroll{overflow-x:auto;max-width:100%}.mnv3-table{border-collapse:collapse;font-size:.9em}" +
      ".mnv3-table td,.mnv3-table th{padding:.15em .5em;text-align:right}.mnv3-table td:first-child{text-align:left}" +
      ".mnv3-plot svg{width:100%;max-width:480px;height:auto;display:block}" +
      ".mnv3-ua{font-size:.8em;color:#555;overflow-wrap:anywhere}" +
      ".mnv3-draw-row{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}" +
      ".mnv3-pad{width:160px;height:160px;touch-action:none;border:1px solid #888;background:#fff;cursor:crosshair}" +
      ".mnv3-draw-row figure{margin:0}.mnv3-draw-row figcaption{font-size:.8em;color:#555}" +
      ".mnv3-seen{width:96px;height:96px;image-rendering:pixelated;border:1px solid #ccc;display:block}" +
      ".mnv3-top3{margin:0;padding-left:1.6em;min-width:8em}";
    document.head.appendChild(el);
  }

  // onnxruntime-web, once per page, on first use: the exact npm file with its integrity hash.
  function loadOrt(cfg) {
    if (typeof WebAssembly !== "object" || typeof WebAssembly.instantiate !== "function") {
      return Promise.reject(new Error("this browser cannot run WebAssembly, so the networks cannot run here"));
    }
    if (!ortPromise) {
      ortPromise = new Promise((resolve, reject) => {
        if (window.ort && window.ort.InferenceSession) return resolve(window.ort);
        const s = document.createElement("script");
        s.src = cfg.ort.url;
        s.integrity = cfg.ort.integrity;
        s.crossOrigin = "anonymous";
        s.onload = () => (window.ort ? resolve(window.ort) : reject(new Error("ONNX Runtime Web did not start")));
        s.onerror = () => reject(new Error("ONNX Runtime Web could not be loaded from the CDN"));
        document.head.appendChild(s);
      }).then((ort) => {
        ort.env.wasm.wasmPaths = cfg.ort.dist;
        ort.env.wasm.numThreads = 1; // static hosts cannot send the cross-origin-isolation headers threads need
        ort.env.wasm.proxy = false;
        return ort;
      });
      ortPromise.catch(() => { ortPromise = null; }); // a later press may try again
    }
    return ortPromise;
  }

  async function fetchBytes(url, onProgress) {
    let resp;
    try {
      resp = await fetch(url);
    } catch (e) {
      throw new Error(`could not fetch ${url}`);
    }
    if (!resp.ok) throw new Error(`${url.split("/").pop()} is not on this site (HTTP ${resp.status})`);
    const total = Number(resp.headers.get("Content-Length")) || 0;
    if (!resp.body || !resp.body.getReader) return new Uint8Array(await resp.arrayBuffer());
    const reader = resp.body.getReader(), chunks = [];
    let got = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      got += value.length;
      onProgress(got, total);
    }
    const out = new Uint8Array(got);
    let at = 0;
    for (const c of chunks) { out.set(c, at); at += c.length; }
    return out;
  }

  async function openSession(cfg, file, onProgress) {
    const ort = await loadOrt(cfg);
    const bytes = await fetchBytes(new URL(cfg.base + file, document.baseURI).href, onProgress || (() => {}));
    try {
      return await ort.InferenceSession.create(bytes, OPTIONS);
    } catch (e) {
      throw new Error(`${file} is not a model ONNX Runtime Web can run (${firstLine(e)})`);
    }
  }

  async function runSession(sess, data, dims) {
    const feeds = { [sess.inputNames[0]]: new window.ort.Tensor("float32", data, dims) };
    const out = await sess.run(feeds);
    return out[sess.outputNames[0]].data;
  }

  const config = (root) => JSON.parse(root.querySelector("script.mnv3-data").textContent);
  const say = (root, text, bad) => {
    const el = root.querySelector(".mnv3-status");
    el.textContent = text;
    el.classList.toggle("mnv3-bad", !!bad);
  };
  const pause = () => new Promise((r) => setTimeout(r, 0));

  // ------------------------------------------------------------------ "Measure on this device"
  // Latency on a log scale (the reader's device and the build machine can differ tenfold), MAdds linear.
  function plot(el, nets, here) {
    const W = 360, H = 250, L = 48, R = 14, T = 14, B = 72;
    const xmax = Math.max(...nets.map((n) => n.madds / 1e6)) * 1.12;
    const all = nets.flatMap((n) => (here[n.name] != null ? [n.ms, here[n.name]] : [n.ms])).filter((v) => v > 0);
    const lo = Math.floor(Math.log10(Math.min(...all))), hi = Math.max(Math.ceil(Math.log10(Math.max(...all))), lo + 1);
    const X = (v) => L + ((W - L - R) * v) / xmax;
    const Y = (v) => H - B - ((H - T - B) * (Math.log10(v) - lo)) / (hi - lo);
    const parts = [`<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#333"/>`,
      `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#333"/>`];
    const raw = xmax / 4, p = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw);
    for (let v = 0; v <= xmax; v += step) {
      parts.push(`<text x="${X(v)}" y="${H - B + 14}" font-size="10" text-anchor="middle">${v}</text>`);
    }
    for (let e = lo; e <= hi; e++) {
      for (const m of e < hi ? [1, 2, 5] : [1]) {
        const v = m * Math.pow(10, e);
        parts.push(`<line x1="${L}" y1="${Y(v)}" x2="${W - R}" y2="${Y(v)}" stroke="${m === 1 ? "#ddd" : "#f3f3f3"}"/>`,
          `<text x="${L - 4}" y="${Y(v) + 3}" font-size="10" text-anchor="end">${+v.toPrecision(2)}</text>`);
      }
    }
    parts.push(`<text x="${(L + W - R) / 2}" y="${H - B + 30}" font-size="11" text-anchor="middle">MAdds (millions)</text>`,
      `<text transform="translate(12 ${(T + H - B) / 2}) rotate(-90)" font-size="11" text-anchor="middle">` +
      `latency (ms, log scale)</text>`);
    for (const n of nets) {
      const x = X(n.madds / 1e6), v = here[n.name];
      parts.push(`<rect x="${x - 4}" y="${Y(n.ms) - 4}" width="8" height="8" fill="#999"><title>${esc(n.name)}: ` +
        `${n.ms.toFixed(1)} ms on the build machine</title></rect>`);
      if (v != null) {
        parts.push(`<circle cx="${x}" cy="${Y(v)}" r="5" fill="#1f77b4"><title>${esc(n.name)}: ${v.toFixed(1)} ms ` +
          `on this device</title></circle>`);
      }
      const top = Math.min(Y(n.ms), v != null ? Y(v) : Infinity);
      parts.push(`<text x="${x}" y="${top - 8}" font-size="10" text-anchor="middle">${esc(n.name)}</text>`);
    }
    parts.push(`<rect x="${L}" y="${H - 32}" width="8" height="8" fill="#999"/>` +
      `<text x="${L + 14}" y="${H - 24}" font-size="10">the build machine (ONNX Runtime in Python, 1 thread)</text>`,
      `<circle cx="${L + 4}" cy="${H - 10}" r="5" fill="#1f77b4"/>` +
      `<text x="${L + 14}" y="${H - 6}" font-size="10">this device (ONNX Runtime Web, WebAssembly, 1 thread)</text>`);
    el.innerHTML = `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="latency against MAdds">${parts.join("")}</svg>`;
  }

  function measure(root) {
    if (!root || root.dataset.ready) return;
    style();
    const cfg = config(root), nets = cfg.manifest.networks, here = {};
    const bar = root.querySelector(".mnv3-progress"), button = root.querySelector(".mnv3-go");
    root.querySelector(".mnv3-ua").textContent = "This device: " + navigator.userAgent;
    plot(root.querySelector(".mnv3-plot"), nets, here);
    const fill = (name, text) => { root.querySelector(`tr[data-model="${name}"] .mnv3-here`).textContent = text; };

    async function time(sess, dims) {
      const x = new Float32Array(dims.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i));
      const feeds = { [sess.inputNames[0]]: new window.ort.Tensor("float32", x, dims) };
      for (let i = 0; i < cfg.warmup; i++) await sess.run(feeds);
      const times = [];
      for (let i = 0; i < cfg.repeats; i++) {
        const start = performance.now();
        await sess.run(feeds);
        times.push(performance.now() - start);
      }
      times.sort((a, b) => a - b);
      const m = times.length >> 1;
      return times.length % 2 ? times[m] : (times[m - 1] + times[m]) / 2;
    }

    async function go() {
      button.disabled = true;
      bar.hidden = false;
      bar.value = 0;
      const failed = [];
      try {
        say(root, "Loading ONNX Runtime Web…");
        await loadOrt(cfg);
        for (const [i, net] of nets.entries()) {
          say(root, `${net.name}: loading ${(net.bytes / 1e6).toFixed(1)} MB…`);
          try {
            const sess = await openSession(cfg, net.file, (got, total) => {
              bar.value = (i + (0.7 * got) / (total || net.bytes)) / nets.length;
            });
            say(root, `${net.name}: ${cfg.warmup} warm-up runs, then ${cfg.repeats} timed runs…`);
            await pause();
            here[net.name] = await time(sess, net.input);
            await sess.release();
            fill(net.name, here[net.name].toFixed(1));
            plot(root.querySelector(".mnv3-plot"), nets, here);
          } catch (e) {
            failed.push(`${net.name}: ${firstLine(e)}`);
            fill(net.name, "failed");
          }
          bar.value = (i + 1) / nets.length;
          await pause();
        }
        if (failed.length) say(root, `Could not run ${failed.join("; ")}.`, true);
        else say(root, `Done: median of ${cfg.repeats} runs after ${cfg.warmup} warm-up runs each, WebAssembly, 1 thread.`);
      } catch (e) {
        say(root, `Cannot measure here: ${firstLine(e)}.`, true);
      } finally {
        bar.hidden = true;
        button.disabled = false;
        root.dataset.results = JSON.stringify(here);
        root.dataset.done = String(Number(root.dataset.done || 0) + 1);
      }
    }

    button.addEventListener("click", () => { go().catch((e) => say(root, firstLine(e), true)); });
    root.mnv3Run = async (name, data) => {
      const net = nets.find((n) => n.name === name);
      if (!net) throw new Error(`no network ${name}`);
      const sess = await openSession(cfg, net.file);
      try { return Array.from(await runSession(sess, data, net.input)); } finally { await sess.release(); }
    };
    root.dataset.ready = "1";
  }

  // ------------------------------------------------------------------ "Draw a digit"
  // The 8×8 digit, 0..16, as canvas_to_digit: ink = alpha / 255, averaged over each block, × 16.
  function toDigit(rgba, w, h) {
    const bw = w / 8, bh = h / 8, digit = new Float64Array(64);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) digit[8 * Math.floor(y / bh) + Math.floor(x / bw)] += rgba[4 * (y * w + x) + 3];
    }
    return digit.map((s) => (s / (bw * bh * 255)) * 16);
  }

  // mnv3lib.data.preprocess, step by step.
  function preprocess(digit, size) {
    const x = Float32Array.from(digit, (v) => v / 16); // 1. [0, 1]
    const src = (i) => { // 2. bilinear, align_corners=False: sample at (i + 0.5) · 8 / size − 0.5, clamped to [0, 7]
      const s = Math.min(Math.max(((i + 0.5) * 8) / size - 0.5, 0), 7), i0 = Math.floor(s);
      return [i0, Math.min(i0 + 1, 7), s - i0];
    };
    const out = new Float32Array(3 * size * size);
    for (let r = 0; r < size; r++) {
      const [y0, y1, ly] = src(r);
      for (let c = 0; c < size; c++) {
        const [x0, x1, lx] = src(c);
        const top = (1 - lx) * x[8 * y0 + x0] + lx * x[8 * y0 + x1];
        const bottom = (1 - lx) * x[8 * y1 + x0] + lx * x[8 * y1 + x1];
        const v = ((1 - ly) * top + ly * bottom - 0.5) / 0.5; // 3. [−1, 1]
        for (let ch = 0; ch < 3; ch++) out[ch * size * size + r * size + c] = v; // 4. three equal channels
      }
    }
    return out;
  }

  function draw(root) {
    if (!root || root.dataset.ready) return;
    style();
    const cfg = config(root), d = cfg.manifest.digits, size = d.size, C = cfg.canvas;
    const pad = root.querySelector(".mnv3-pad"), seen = root.querySelector(".mnv3-seen");
    const top3 = root.querySelector(".mnv3-top3"), variant = root.querySelector(".mnv3-variant");
    seen.width = seen.height = size;
    const ctx = pad.getContext("2d", { willReadFrequently: true });
    const sessions = {};
    let last = null, chain = Promise.resolve(), queued = 0;

    const session = (name) => {
      if (!sessions[name]) {
        sessions[name] = openSession(cfg, d.files[name].file);
        sessions[name].catch(() => { delete sessions[name]; });
      }
      return sessions[name];
    };
    const pixels = () => ctx.getImageData(0, 0, C, C).data;

    function show(x) {
      const sctx = seen.getContext("2d"), img = sctx.createImageData(size, size);
      for (let i = 0; i < size * size; i++) {
        const g = x ? Math.round(255 * (1 - (x[i] + 1) / 2)) : 255; // ink (+1) dark, background (−1) white
        img.data.set([g, g, g, 255], 4 * i);
      }
      sctx.putImageData(img, 0, 0);
    }

    async function classifyOnce() {
      const digit = toDigit(pixels(), C, C);
      if (!digit.some((v) => v > 0)) {
        last = null;
        show(null);
        top3.innerHTML = "";
        say(root, "The canvas is empty: draw a digit (0–9) in the box.");
        return;
      }
      const x = preprocess(digit, size), name = variant.value;
      last = { digit: Array.from(digit), input: x };
      show(x);
      if (!sessions[name]) say(root, `Loading ONNX Runtime Web and the ${name} digits network…`);
      try {
        const logits = Array.from(await runSession(await session(name), x, [1, 3, size, size]));
        const m = Math.max(...logits), e = logits.map((v) => Math.exp(v - m)), sum = e.reduce((a, b) => a + b, 0);
        const ranked = e.map((v, i) => [d.classes[i], v / sum]).sort((a, b) => b[1] - a[1]).slice(0, 3);
        Object.assign(last, { logits, top: ranked });
        top3.innerHTML = ranked.map(([c, p]) => `<li><b>${esc(c)}</b> ${(100 * p).toFixed(1)} %</li>`).join("");
        say(root, `The ${name} network reads ${ranked[0][0]} (${(100 * ranked[0][1]).toFixed(0)} %).`);
      } catch (e) {
        top3.innerHTML = "";
        say(root, `The digits network cannot run here: ${firstLine(e)}.`, true);
      }
    }

    // At most one classification waits while one runs; the waiting one reads the pixels when it starts.
    function schedule() {
      if (queued) return chain;
      queued = 1;
      chain = chain.then(() => { queued = 0; return classifyOnce(); }).catch((e) => say(root, firstLine(e), true));
      return chain;
    }

    ctx.lineWidth = C / 8;
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.strokeStyle = ctx.fillStyle = "#000";
    const at = (e) => {
      const r = pad.getBoundingClientRect();
      return [((e.clientX - r.left) * C) / r.width, ((e.clientY - r.top) * C) / r.height];
    };
    const segment = (a, b) => {
      ctx.beginPath();
      if (a[0] === b[0] && a[1] === b[1]) {
        ctx.arc(a[0], a[1], ctx.lineWidth / 2, 0, 2 * Math.PI);
        ctx.fill();
      } else {
        ctx.moveTo(a[0], a[1]);
        ctx.lineTo(b[0], b[1]);
        ctx.stroke();
      }
    };
    let pen = null;
    pad.addEventListener("pointerdown", (e) => {
      e.preventDefault();
      try { pad.setPointerCapture(e.pointerId); } catch (err) { /* synthetic pointers cannot be captured */ }
      pen = at(e);
      segment(pen, pen);
      schedule();
    });
    pad.addEventListener("pointermove", (e) => {
      if (!pen) return;
      const p = at(e);
      segment(pen, p);
      pen = p;
      schedule();
    });
    const up = () => { if (pen) { pen = null; schedule(); } };
    pad.addEventListener("pointerup", up);
    pad.addEventListener("pointercancel", up);
    root.querySelector(".mnv3-clear").addEventListener("click", () => { ctx.clearRect(0, 0, C, C); schedule(); });
    variant.addEventListener("change", () => schedule());
    show(null);

    root.mnv3Pixels = () => Array.from(pixels());
    root.mnv3Preprocessed = () => (last ? Array.from(last.input) : null);
    root.mnv3Classify = () => schedule().then(() => (last ? { ...last, input: undefined } : null));
    root.mnv3Run = async (name, data) => Array.from(await runSession(await session(name), data, [1, 3, size, size]));
    root.dataset.ready = "1";
  }

  return { measure, draw, toDigit, preprocess, loadOrt };
})();
