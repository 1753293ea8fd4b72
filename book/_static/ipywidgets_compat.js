// The ipywidgets HTML manager (html-manager 1.x, which draws the widget state saved in the executed notebooks)
// typesets widget labels with MathJax 2's API, MathJax.Hub.Queue, but the pages load MathJax 3: every labelled
// widget on a page with math threw "Cannot read properties of undefined (reading 'Queue')" (readers' consoles;
// tests/test_rendered_book.py caught it). This gives MathJax 3 that one entry point; jobs queued before MathJax
// has loaded are typeset once it is ready. Sphinx sets the MathJax configuration just before this script runs.
(function () {
  "use strict";
  var pending = [];
  function queue(job) { // job = ["Typeset", MathJax.Hub, element]
    var element = job && job[2];
    if (window.MathJax && window.MathJax.typesetPromise) {
      window.MathJax.startup.promise.then(function () {
        return window.MathJax.typesetPromise(element ? [element] : undefined);
      });
    } else if (element) {
      pending.push(element);
    }
  }
  // Until MathJax 3 loads, window.MathJax is its configuration object.
  var config = (window.MathJax = window.MathJax || {});
  config.Hub = { Queue: queue };
  var startup = (config.startup = config.startup || {});
  var ready = startup.ready;
  startup.ready = function () {
    if (ready) ready(); else window.MathJax.startup.defaultReady();
    window.MathJax.Hub = { Queue: queue };
    window.MathJax.startup.promise.then(function () {
      var elements = pending.splice(0);
      return elements.length ? window.MathJax.typesetPromise(elements) : null;
    });
  };
})();
