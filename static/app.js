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

htmx.onLoad(function (root) {
  // Drag-and-drop lists: SortableJS reorders, the form's "end" trigger tells the server the new order.
  root.querySelectorAll(".sortable").forEach(function (el) {
    var list = el.querySelector("ul") || el;
    if (list.sortable) return;
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

// Links and files in the native window (pywebview sets window.pywebview): a webview neither leaves the app for
// other websites nor downloads like a browser, so those go to the system's browser and a native Save-as dialog.
(function () {
  function desktop() { return window.pywebview && window.pywebview.api; }
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
    } else if (a.hasAttribute("download") && url.origin === location.origin) {
      ev.preventDefault();
      api.save_as(url.pathname + url.search, a.getAttribute("download") || "").then(function (r) {
        note(a, r && r.saved ? "Saved to " + r.path : (r && r.error) || "");
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
      .then(function (msg) { note(b, msg); });
  });
})();
