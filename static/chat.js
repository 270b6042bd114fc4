// The chat panel: render message text as sanitised Markdown, Enter to send, keep the newest message in view.
(function () {
  function escapeHtml(s) {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }
  if (window.marked && !window.pdMarkedReady) {
    // Raw HTML from the model is shown as text, never parsed: a <script> in an answer stays visible and inert.
    marked.use({ renderer: { html: function (token) { return escapeHtml(typeof token === "string" ? token : token.text); } } });
    window.pdMarkedReady = true;
  }
  var pending = new Set();
  var scheduled = false;
  var nextRender = 0;

  function render(msg) {
    var src = msg.querySelector(".src"), md = msg.querySelector(".md");
    if (!src || !md) return;
    var text = src.textContent;
    if (md.pdRendered === text) return;
    md.innerHTML = pdMarkdown(text);  // static/markdown.js: nothing in an answer fetches anything
    md.pdRendered = text;
  }

  function flush() {
    scheduled = false;
    var log = document.getElementById("chat-log");
    var atBottom = log && log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    var started = performance.now();
    pending.forEach(render);
    pending.clear();
    if (log && atBottom) log.scrollTop = log.scrollHeight;
    // Re-render at most ten times a second (still visibly growing), and for a long answer, whose re-render costs
    // more, wait four times the last render's cost (at most a quarter second): the main thread stays free for
    // the incoming tokens.
    var now = performance.now();
    nextRender = now + Math.min(250, Math.max(100, 4 * (now - started)));
  }

  // Many tokens can arrive per frame: render each changed message at most once per frame, less if rendering is slow.
  function queue(msg) {
    pending.add(msg);
    if (scheduled) return;
    scheduled = true;
    var wait = nextRender - performance.now();
    if (wait > 0) setTimeout(function () { requestAnimationFrame(flush); }, wait);
    else requestAnimationFrame(flush);
  }

  // The LLM changed the tasks: an open tasks screen reloads its list in place.
  var refreshing = false;
  function refreshTasks() {
    if (refreshing || !document.getElementById("task-list")) return;
    refreshing = true;  // one swap can report twice; one reload is enough
    setTimeout(function () {
      refreshing = false;
      htmx.ajax("GET", "/tasks", { target: "#task-list", select: "#task-list", swap: "outerHTML" });
    }, 0);
  }

  function queueWithin(root) {
    if (!root || !root.querySelectorAll) return;
    if (root.classList && root.classList.contains("msg")) queue(root);
    root.querySelectorAll(".msg").forEach(queue);
  }

  if (!window.pdChatReady) {
    window.pdChatReady = true;
    htmx.onLoad(queueWithin);
    document.addEventListener("htmx:oobAfterSwap", function (e) {
      var t = e.detail.target;
      if (t && t.id === "chat-effects") { refreshTasks(); return; }
      queueWithin(t);
      var msg = t && t.closest && t.closest(".msg");
      if (msg) queue(msg);
    });
    document.addEventListener("keydown", function (e) {
      if (e.key !== "Enter" || e.shiftKey || e.isComposing) return;
      if (!e.target.matches("#chat-form textarea")) return;
      e.preventDefault();
      e.target.form.requestSubmit();
    });
    document.addEventListener("htmx:wsAfterSend", function (e) {
      var form = document.getElementById("chat-form");
      if (form) form.reset();
    });
  }
  document.querySelectorAll("#chat-log .msg").forEach(queue);
})();
