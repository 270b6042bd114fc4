// Behaviour the server's HTML cannot express on its own. Kept small on purpose.

// ---- CSRF token (security, issue #16): every state-changing request carries this launch's token. ----------
(function () {
  var meta = document.querySelector('meta[name="pipedeck-token"]');
  var token = meta ? meta.content : "";
  function ours(url) { return new URL(url, location.href).origin === location.origin; }
  document.addEventListener("htmx:configRequest", function (e) { e.detail.headers["X-Pipedeck-Token"] = token; });
  // Plain fetch calls (open folder, save a graph as PNG) too, and only to this server: the token never leaves it.
  var plainFetch = window.fetch;
  window.fetch = function (input, init) {
    if (!ours(typeof input === "string" || input instanceof URL ? input : input.url)) return plainFetch(input, init);
    var headers = new Headers((init && init.headers) || (input instanceof Request ? input.headers : undefined));
    headers.set("X-Pipedeck-Token", token);
    return plainFetch(input, Object.assign({}, init, { headers: headers }));
  };
  // A WebSocket upgrade cannot carry headers: the chat socket's URL carries the token instead.
  var plainSocket = htmx.createWebSocket;
  htmx.createWebSocket = function (url) {
    var u = new URL(url, location.href);
    u.searchParams.set("token", token);
    return plainSocket ? plainSocket(u.href) : new WebSocket(u.href);
  };
})();
// ---- end of the CSRF block -------------------------------------------------------------------------------------

// A new card is in the page a moment before htmx binds it (htmx processes swapped content when it settles, 20 ms
// later, longer on a busy machine). An Enter in that moment would post the form plainly: refused, and the answer
// lost. Bind the form there and then, and send it the htmx way.
(function () {
  var HX = "[hx-post], [data-hx-post], [hx-get], [data-hx-get], [hx-put], [data-hx-put]";
  document.addEventListener("htmx:afterProcessNode", function (e) { e.target.pdBound = true; });
  document.addEventListener("submit", function (e) {
    var form = e.target, by = e.submitter;
    var el = by && by.matches(HX) ? by : form;
    if (!el.matches || !el.matches(HX) || el.pdBound) return;
    e.preventDefault();
    htmx.process(form);
    el.pdBound = true;  // once only, even if htmx had bound it unseen: never a loop
    if (el === by) by.click(); else form.requestSubmit(by || undefined);
  }, true);
})();

htmx.onLoad(function (root) {
  // Drag-and-drop lists: SortableJS reorders, the form's "end" trigger tells the server the new order.
  root.querySelectorAll(".sortable").forEach(function (el) {
    var list = el.querySelector("ul") || el;
    if (list.sortable || !window.Sortable) return;  // SortableJS is loaded by the pages that reorder (tasks)
    list.sortable = new Sortable(list, {
      animation: 150,
      handle: ".handle",
      onEnd: function () { htmx.trigger(el, "end"); },
    });
  });

  // New cards focus their field (`data-autofocus`, not `autofocus`, which htmx obeys unconditionally), unless the
  // user is typing in the side panel: a card loading in the chain must not steal keys from the chat box.
  var field = root.matches && root.matches("[data-autofocus]") ? root : root.querySelector("[data-autofocus]");
  var active = document.activeElement;
  var typingAside = active && active.closest("aside") && active.matches("input, textarea, select, [contenteditable]");
  if (field && !typingAside) field.focus();
});

function desktop() { return window.pywebview && window.pywebview.api; }

// Toasts: the server asks with an `HX-Trigger: {"pd-toast": {...}}` header (server/layout.py toast()); scripts call
// pdToast() for actions that finish outside htmx (a native dialog, the file manager, the clipboard).
function pdToast(text, kind) {
  var box = document.getElementById("toasts");
  if (!box || !text) return;
  var t = document.createElement("div");
  t.className = "toast" + (kind === "error" ? " error" : "");
  t.textContent = text;
  box.append(t);
  setTimeout(function () { t.classList.add("leaving"); }, kind === "error" ? 6000 : 3500);
  setTimeout(function () { t.remove(); }, kind === "error" ? 6400 : 3900);
}
document.addEventListener("pd-toast", function (ev) { pdToast(ev.detail.text, ev.detail.kind); });

// Links and files in the native window (pywebview sets window.pywebview): a webview neither leaves the app for
// other websites nor downloads like a browser, so those go to the system's browser and a native Save-as dialog.
(function () {
  function note(el, text) {
    var n = el.nextElementSibling && el.nextElementSibling.classList.contains("file-note") ? el.nextElementSibling : null;
    if (!text) { if (n) n.remove(); return; }
    if (!n) { n = document.createElement("small"); n.className = "file-note"; n.setAttribute("role", "status"); el.after(n); }
    n.textContent = text;
  }
  document.addEventListener("click", function (ev) {
    if (ev.defaultPrevented || ev.button !== 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.altKey) return;
    var a = ev.target.closest && ev.target.closest("a[href]");
    var api = desktop();
    if (!a || !api) return;
    var url = new URL(a.getAttribute("href"), location.href);
    if (url.origin !== location.origin && /^(https?|mailto):$/.test(url.protocol)) {
      ev.preventDefault();
      api.open_external(url.href);
    } else if (a.classList.contains("open-outside") && url.origin === location.origin) {
      ev.preventDefault();
      api.open_in_browser(url.pathname + url.search).then(function (ok) {
        pdToast(ok ? "Opened in your browser" : "Could not open your browser", ok ? "ok" : "error");
      });
    } else if (a.hasAttribute("download") && url.origin === location.origin) {
      ev.preventDefault();
      api.save_as(url.pathname + url.search, a.getAttribute("download") || "").then(function (r) {
        note(a, r && r.saved ? "Saved to " + r.path : (r && r.error) || "");
        if (r && (r.saved || r.error)) pdToast(r.saved ? "Saved to " + r.path : r.error, r.saved ? "ok" : "error");
      });
    }
  });
  // "Open folder" buttons: the server opens the folder in the file manager (window and browser alike).
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("[data-open-folder]");
    if (!b) return;
    ev.preventDefault();
    var body = new FormData();
    body.append("path", b.getAttribute("data-open-folder"));
    fetch("/open-folder", { method: "POST", body: body })
      .then(function (r) { return r.ok ? "" : r.text(); })
      .catch(function () { return "Pipedeck is not answering."; })
      .then(function (msg) {
        note(b, msg);
        pdToast(msg || "Opened the folder in your file manager.", msg ? "error" : "ok");
      });
  });
  // "Copy" buttons (`data-copy="text"`): the clipboard, with the older execCommand where the API is refused.
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("[data-copy]");
    if (!b) return;
    var text = b.getAttribute("data-copy");
    function fallback() {
      var area = document.createElement("textarea");
      area.value = text;
      document.body.append(area);
      area.select();
      var ok = document.execCommand("copy");
      area.remove();
      return ok;
    }
    var done = navigator.clipboard ? navigator.clipboard.writeText(text).then(function () { return true; }, fallback)
      : Promise.resolve(fallback());
    done.then(function (ok) { pdToast(ok ? "Copied." : "Could not copy.", ok ? "ok" : "error"); });
  });
})();

// The shell: the Assistant panel's toggle, the quick switcher, and the keys a desktop app answers to.
(function () {
  var narrow = window.matchMedia("(max-width: 899px)");
  function shell() { return document.querySelector(".shell"); }
  function assistantOpen(s) {
    var state = s.dataset.assistant;
    return narrow.matches ? state === "shown" : state === "open" || state === "shown";
  }
  function syncToggle() {
    var s = shell(), b = s && s.querySelector(".assistant-toggle");
    if (b) b.setAttribute("aria-expanded", String(assistantOpen(s)));
  }
  function setAssistant(open) {
    var s = shell();
    if (!s || s.dataset.assistant === "none") return;
    if (narrow.matches) {
      // On a narrow window the panel opens over the content for now; the choice for wide windows stays as it was.
      s.dataset.assistant = open ? "shown" : "collapsed";
    } else {
      s.dataset.assistant = open ? "open" : "collapsed";
      htmx.ajax("POST", "/shell/assistant", { values: { state: s.dataset.assistant }, swap: "none" });
    }
    syncToggle();
    var box = open && s.querySelector("#side textarea");
    if (box) box.focus();
  }
  document.addEventListener("click", function (ev) {
    var t = ev.target.closest && ev.target.closest(".assistant-toggle");
    if (t) setAssistant(!assistantOpen(shell()));
    if (ev.target.closest && ev.target.closest("[data-switcher-open]")) openSwitcher();
  });
  narrow.addEventListener("change", syncToggle);
  document.addEventListener("DOMContentLoaded", syncToggle);
  document.addEventListener("htmx:historyRestore", syncToggle);

  // Quick switcher: the server lists matches (/switcher); arrows move the selection, Enter opens it.
  function dialog() { return document.getElementById("switcher"); }
  function options() { return Array.prototype.slice.call(dialog().querySelectorAll("#switcher-results a")); }
  function select(i) {
    var all = options();
    all.forEach(function (a, j) { a.setAttribute("aria-selected", String(i === j)); });
    if (all[i]) all[i].scrollIntoView({ block: "nearest" });
  }
  function selected() { return options().findIndex(function (a) { return a.getAttribute("aria-selected") === "true"; }); }
  function openSwitcher() {
    var d = dialog();
    if (!d) return;
    if (d.open) { d.close(); return; }
    var input = d.querySelector("input");
    input.value = "";
    d.showModal();
    input.focus();
    htmx.ajax("GET", "/switcher", { target: "#switcher-results", swap: "innerHTML" });
  }
  document.addEventListener("htmx:afterSwap", function (ev) {
    if (ev.target.id === "switcher-results") select(0);
  });
  document.addEventListener("submit", function (ev) {
    if (!ev.target.closest("#switcher")) return;
    ev.preventDefault();
    var a = options()[Math.max(selected(), 0)];
    if (a) location.href = a.href;
  });
  document.addEventListener("click", function (ev) {
    if (ev.target === dialog()) dialog().close();  // a click on the backdrop, outside the box
  });

  document.addEventListener("keydown", function (ev) {
    var key = (ev.key || "").toLowerCase(), mod = (ev.ctrlKey || ev.metaKey) && !ev.altKey && !ev.shiftKey;
    var api = desktop();
    if (mod && key === "k") { ev.preventDefault(); openSwitcher(); return; }
    // The window has no menu bar: Ctrl+Q quits Pipedeck, Ctrl+W closes this window (in a browser, the browser's own).
    if (mod && api && key === "q") { ev.preventDefault(); api.quit(); return; }
    if (mod && api && key === "w") { ev.preventDefault(); api.close(); return; }
    var d = dialog();
    if (d && d.open && (key === "arrowdown" || key === "arrowup")) {
      ev.preventDefault();
      var n = options().length;
      if (n) select((selected() + (key === "arrowdown" ? 1 : n - 1)) % n);
      return;
    }
    if (key !== "escape" || ev.defaultPrevented) return;
    // Escape cancels an edit: a form's [data-cancel] button puts the item back as it was.
    var form = ev.target.closest && ev.target.closest("form");
    var cancel = form && form.querySelector("[data-cancel]");
    if (cancel) { ev.preventDefault(); cancel.click(); return; }
    var s = shell();
    if (s && narrow.matches && s.dataset.assistant === "shown") { ev.preventDefault(); setAssistant(false); }
  });
})();

// Background steps (server/engine) push their progress over the chat panel's WebSocket; their cards poll only while
// it is down. No inline script or htmx filter expression: the page's policy allows neither.
(function () {
  document.addEventListener("htmx:wsOpen", function () { document.body.dataset.push = "up"; });
  document.addEventListener("htmx:wsClose", function () { document.body.dataset.push = "down"; });
  document.addEventListener("htmx:beforeRequest", function (ev) {
    var el = ev.detail && ev.detail.elt;
    if (el && el.classList && el.classList.contains("push-poll") && document.body.dataset.push === "up") {
      ev.preventDefault();
    }
  });
})();
