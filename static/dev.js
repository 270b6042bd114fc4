// --dev only. When the server restarts, the chat socket closes and htmx reconnects it; then load the page afresh,
// so the window shows what the new server code renders. When an app file is saved, the server pushes the address
// patterns of its pages (server/app_files.py); a page at one of them fetches itself again and swaps in its content
// and menu, the chat panel and its socket staying as they are.
(function () {
  if (window.pipedeckDev) return;
  window.pipedeckDev = true;
  var lost = false;
  document.addEventListener("htmx:wsClose", function () { lost = true; });
  document.addEventListener("htmx:wsOpen", function () { if (lost) window.location.reload(); });

  function rerender() {
    var content = document.getElementById("content");
    if (!content) return;
    var fetcher = document.createElement("div");
    fetcher.hidden = true;
    fetcher.className = "reloading";
    fetcher.setAttribute("hx-get", window.location.pathname + window.location.search);
    fetcher.setAttribute("hx-trigger", "load");
    fetcher.setAttribute("hx-select", "#content");
    fetcher.setAttribute("hx-target", "#content");
    fetcher.setAttribute("hx-swap", "outerHTML");
    fetcher.setAttribute("hx-select-oob", "#app-menu");
    content.appendChild(fetcher);
    htmx.process(fetcher);
  }

  htmx.onLoad(function (elt) {
    var signals = elt.matches && elt.matches("[data-dev-rerender]") ? [elt] : [];
    signals.forEach(function (signal) {
      var patterns = JSON.parse(signal.getAttribute("data-dev-rerender"));
      signal.remove();
      var here = window.location.pathname;
      if (patterns.some(function (p) { return new RegExp(p).test(here); })) rerender();
    });
  });
})();
