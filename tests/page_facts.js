// Evaluated by tests/book_site.py in every page of the built book, after the load event.
// Waits (bounded) for MathJax to typeset and images to decode, then reports facts
// that tests/book_checks.py judges. Returns plain JSON.
async (timeoutMs) => {
  const deadline = Date.now() + timeoutMs * 0.8;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const until = async (cond) => { while (!cond() && Date.now() < deadline) await sleep(50); return !!cond(); };
  const article = document.querySelector("article.bd-article") || document.querySelector("main") || document.body;

  // MathJax (deferred script): wait for its first typeset when the page loads it.
  const mathScript = document.querySelector('script[src*="mathjax"]');
  let mathjax = "absent";
  if (mathScript) {
    const started = await until(() => window.MathJax && MathJax.startup && MathJax.startup.promise);
    if (started) {
      await Promise.race([MathJax.startup.promise, sleep(Math.max(0, deadline - Date.now()))]);
      mathjax = "typeset";
    } else {
      mathjax = "not loaded";
    }
  }
  const mathNodes = [...article.querySelectorAll(".math")];
  const math = {
    script: mathjax,
    count: mathNodes.length,
    rendered: mathNodes.filter((m) => m.querySelector("mjx-container") || m.closest("mjx-container")).length,
    errors: [...article.querySelectorAll("mjx-merror")].map((e) => e.getAttribute("data-mjx-error") || e.textContent),
  };

  // Widgets: the book loads no widget manager, so a saved widget view would draw nothing; explorers are static
  // HTML + script (div.mnv3-explorer), driven separately (book_explorers.py).
  const widgets = {
    views: [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')].map((v) => {
      try { return JSON.parse(v.textContent).model_id; } catch (e) { return null; } }),
    explorers: document.querySelectorAll("div.mnv3-explorer").length,
  };

  // Images: load lazy ones too, then decode each (decode() rejects for a broken image).
  const imgs = [...document.images];
  imgs.forEach((img) => { img.loading = "eager"; });
  const decoded = await Promise.all(imgs.map((img) => img.decode().then(() => true, () => false)));
  const images = imgs.map((img, i) => ({
    src: img.currentSrc || img.src, ok: decoded[i] && img.naturalWidth > 0, inArticle: article.contains(img),
  }));

  // Structure near the top of the page body: the title, where "objectives" are named, where the first figure is.
  const order = (a, b) => (a && b ? !!(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING) : null);
  const h2 = [...article.querySelectorAll("h2")];
  const firstImg = article.querySelector("img");
  const objectives = [...article.querySelectorAll("h2, h3, p, .admonition-title, strong, li")]
    .find((e) => /objective|you will learn|you.ll learn|after this chapter you|by the end of this chapter/i.test(e.textContent));
  const structure = {
    h1: [...article.querySelectorAll("h1")].map((h) => h.textContent.replace(/[#¶\s]+$/, "").trim()),
    h2Count: h2.length,
    articleImages: article.querySelectorAll("img").length,
    figureBeforeThirdH2: firstImg ? (h2.length < 3 || order(firstImg, h2[2])) : false,
    objectivesBeforeSecondH2: objectives ? (h2.length < 2 || order(objectives, h2[1])) : false,
  };

  // Cell outputs a reader should never see: stderr streams, warnings, progress bars, the Colab bootstrap cell.
  const streams = [...article.querySelectorAll(".cell_output .output")].map((o) => ({
    classes: o.className, text: o.textContent.slice(0, 400),
  }));
  const text = article.innerText;

  // Links: every href as the browser resolved it; the launch buttons' targets.
  const links = [...document.querySelectorAll("a[href]")].map((a) => a.href);
  const launch = [...document.querySelectorAll("a[href]")].map((a) => a.href)
    .filter((h) => /mybinder\.org|colab\.research\.google\.com/.test(h));
  const tables = [...article.querySelectorAll("table")].map((t) =>
    [...t.querySelectorAll("tr")].map((tr) => [...tr.querySelectorAll("th, td")].map((c) => c.innerText.trim())));

  return {
    title: document.title, images, math, widgets, structure, streams, links, launch, tables,
    colabBootstrapVisible: /google\.colab/.test(article.textContent),
  };
}
