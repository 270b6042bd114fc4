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
  var NEAR_BOTTOM = 40;  // px: closer than this to the end counts as "reading the newest message"
  var pending = new Set();
  var scheduled = false;
  var nextFlush = 0;
  var follow = true;  // keep the log at its newest message until the user scrolls up

  // The one place message text becomes HTML: static/markdown.js's safe renderer (nothing in an answer fetches
  // anything; loaded before this file on every page).
  function renderMarkdown(text) {
    return pdMarkdown(text);
  }

  // A streaming answer re-renders its Markdown at most every 10x the last render's cost (0.1 s to 1 s): in between,
  // the newest tokens are shown as plain text after the rendered part, so the answer still grows every frame while
  // the page stays free for the incoming tokens however long the answer gets.
  function render(msg) {
    var src = msg.querySelector(".src"), md = msg.querySelector(".md");
    if (!src || !md) return false;
    var text = src.textContent;
    if (md.pdRendered === text || md.pdShown === text) return false;
    md.pdShown = text;
    var now = performance.now();
    var streaming = msg.classList.contains("streaming");
    var prefix = md.pdRendered;
    if (streaming && prefix && now < md.pdNextRender && text.startsWith(prefix)) {
      showTail(md, text.slice(prefix.length));
      return true;
    }
    md.innerHTML = renderMarkdown(text);
    md.pdRendered = text;
    md.pdTail = null;
    var cost = performance.now() - now;
    md.pdNextRender = performance.now() + Math.min(1000, Math.max(100, 10 * cost));
    return true;
  }

  function showTail(md, tail) {
    if (!md.pdTail || !md.pdTail.isConnected) {
      var last = md.lastElementChild;
      md.pdTail = document.createElement("span");
      md.pdTail.className = "md-tail";
      (last && last.tagName === "P" ? last : md).appendChild(md.pdTail);  // continue the paragraph in place
    }
    md.pdTail.textContent = tail;
  }

  function log() { return document.getElementById("chat-log"); }

  function atBottom(el) { return el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM; }

  function showMore(show) {
    var more = document.getElementById("chat-more");
    if (more) more.hidden = !show;
  }

  // After the log changed: stay at the newest message, or, when the user scrolled up to read, offer to go there.
  function keepUp(grew) {
    var el = log();
    if (!el) return;
    if (follow) {
      el.scrollTop = el.scrollHeight;
      el.pdAutoTop = el.scrollTop;  // the scroll event this causes is ours, not the user's
      showMore(false);
    }
    else if (grew) showMore(true);
  }

  // Each flush costs layout (a long answer is a long paragraph): the next one waits ten times as long as this one
  // took, so however long the answer, the page keeps nine tenths of its time (and of the CPU) for the tokens.
  function flush() {
    scheduled = false;
    var started = performance.now();
    var changed = false;
    var batch = Array.from(pending);
    pending.clear();
    batch.forEach(function (msg) {
      try { if (render(msg)) changed = true; }
      catch (err) { console.error("chat: could not draw a message", err); }  // one bad message never stops the log
    });
    keepUp(changed);  // reads the log's height: the layout it forces is counted in this flush's time
    var now = performance.now();
    nextFlush = now + Math.min(500, 10 * (now - started));
  }

  // Many tokens can arrive per frame: each changed message is looked at once per frame at most.
  function queue(msg) {
    pending.add(msg);
    if (scheduled) return;
    scheduled = true;
    var wait = nextFlush - performance.now();
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

  function onScroll(e) {
    var el = e.target;
    if (el.id !== "chat-log") return;
    if (follow && el.scrollTop === el.pdAutoTop) return;  // a message added meanwhile must not stop the following
    follow = atBottom(el);
    if (follow) showMore(false);
  }

  function jumpToNewest() {
    follow = true;
    keepUp(false);
  }

  if (!window.pdChatReady) {
    window.pdChatReady = true;
    htmx.onLoad(queueWithin);
    document.addEventListener("htmx:oobAfterSwap", function (e) {
      var t = e.detail.target;
      if (t && t.id === "chat-effects") { refreshTasks(); return; }
      if (t && t.id === "chat-log" && !t.children.length) { follow = true; showMore(false); return; }
      queueWithin(t);
      var msg = t && t.closest && t.closest(".msg");
      if (msg) queue(msg);
    });
    document.addEventListener("scroll", onScroll, true);  // capture: scroll events do not bubble
    document.addEventListener("click", function (e) {
      if (e.target.closest && e.target.closest("#chat-more")) jumpToNewest();
    });
    document.addEventListener("keydown", function (e) {
      if (e.key !== "Enter" || e.shiftKey || e.isComposing) return;
      if (!e.target.matches("#chat-form textarea")) return;
      e.preventDefault();
      e.target.form.requestSubmit();
    });
    document.addEventListener("htmx:wsAfterSend", function () {
      var form = document.getElementById("chat-form");
      if (form) form.reset();
      jumpToNewest();  // whoever just wrote wants to see their message and its answer
    });
    window.addEventListener("resize", function () { if (follow) keepUp(false); });
  }
  // A page (or a boosted swap) brings a fresh log: open it at the newest message.
  follow = true;
  document.querySelectorAll("#chat-log .msg").forEach(queue);
  keepUp(false);
  // A narrow window starts with the Assistant put away, so the log has no height until it is opened: follow then.
  var current = log();
  if (current && window.ResizeObserver && !current.pdObserved) {
    current.pdObserved = true;
    new ResizeObserver(function () { if (follow) keepUp(false); }).observe(current);
  }
})();
