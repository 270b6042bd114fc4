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
  var FRAME_MS = 16;  // a flush waiting less than this just takes the next frame
  var MAX_WAIT = 100;  // ms: the longest a flush waits after the previous one
  var TAIL_PIECE = 3000;  // characters of plain text laid out as one paragraph while an answer streams
  var renderCost = 0;  // ms spent in full renders during the current flush
  var pending = new Set();
  var scheduled = false;
  var nextFlush = 0;
  var follow = true;  // keep the log at its newest message until the user scrolls up

  // The one place message text becomes HTML: static/markdown.js's safe renderer (nothing in an answer fetches
  // anything; loaded before this file on every page).
  function renderMarkdown(text) {
    return pdMarkdown(text);
  }

  // From data-status, not the class: htmx settles a swapped-in element's class a moment after the swap.
  function isStreaming(msg) { return msg.getAttribute("data-status") === "streaming"; }

  // The message's text as its `.src` holds it, read incrementally: tokens only ever add nodes to the same `.src`, so
  // a frame reads only them, not the whole answer (a new `.src`, as the final swap brings, is read whole). `pdNew`
  // collects what was read but is not drawn yet; null when the text was read anew and must be compared.
  function readSource(src, md) {
    var nodes = src.childNodes, n = nodes.length;
    if (md.pdSrc === src && n >= md.pdSrcCount) {
      for (var i = md.pdSrcCount; i < n; i++) {
        var part = nodes[i].textContent;
        md.pdText += part;
        if (md.pdNew !== null) md.pdNew += part;
      }
    } else {
      md.pdSrc = src;
      md.pdText = src.textContent;
      md.pdNew = null;
    }
    md.pdSrcCount = n;
  }

  // Draw a message's text into its `.md`. A streaming answer re-renders its Markdown at most every 10x the last
  // render's cost (its layout included; 0.1 s to 1 s): in between, the newest tokens are appended as plain text after
  // the rendered part, so the answer still grows every frame while the page stays free for the incoming tokens
  // however long it gets. A render that took longer than a frame is not repeated until a new line comes (the last
  // block may have ended): a paragraph that long grows as plain text until then, so that the page never stalls on
  // it. `tailOnly`: only show what is new as text (drawNow leaves the render to a flush).
  function render(msg, tailOnly) {
    var src = msg.querySelector(".src"), md = msg.querySelector(".md");
    if (!src || !md) return false;
    readSource(src, md);
    var text = md.pdText, added = md.pdNew, shown = md.pdShown;
    if (added === null) {  // read anew: the same as what is drawn, more of it, or something else (null)
      added = shown === undefined ? null : text === shown ? "" :
        text.length > shown.length && text.startsWith(shown) ? text.slice(shown.length) : null;
      md.pdNew = added;
    }
    var streaming = isStreaming(msg);
    // Drawn; a finished answer once rendered as finished (a render while it streamed drew it with room for more).
    if (added === "" && (streaming || (!md.pdTailLength && !md.pdRenderedLive))) return false;
    var started = performance.now();
    var prefix = md.pdRenderedLength > 0;
    if (added && added.indexOf("\n") >= 0) md.pdNewLine = true;
    var later = streaming && (started < md.pdNextRender || (md.pdCost > FRAME_MS && !md.pdNewLine));
    if (added && prefix && (tailOnly || later)) {
      appendTail(md, added, text.length - md.pdRenderedLength);
      md.pdNew = "";
      return true;
    }
    if (tailOnly && prefix) return false;
    drawBlocks(md, text, added !== null);
    md.pdMore = streaming ? md.appendChild(moreBox()) : null;
    md.pdShown = text;
    md.pdNew = "";
    md.pdRenderedLength = text.length;
    md.pdGap = /\s/.test(text.charAt(text.length - 1));
    md.pdTail = null;
    md.pdTailLength = 0;
    md.pdNewLine = false;
    md.pdRenderedLive = streaming;
    void md.offsetHeight;  // its layout now, so that it counts in its cost
    var cost = performance.now() - started;
    md.pdCost = cost;
    renderCost += cost;
    md.pdNextRender = performance.now() + Math.min(1000, Math.max(100, 10 * cost));
    return true;
  }

  // Render `text` into `md`. Only the blocks from the last one drawn as open on are rendered again (`grown`: the text
  // is what was drawn plus more): the blocks before it cannot change, so they are neither rendered nor laid out
  // again, and a render costs the size of the answer's last block, not of the whole answer. A comment marks where
  // the open part starts. A text with a link reference definition is rendered whole each time.
  function drawBlocks(md, text, grown) {
    var open = grown && md.pdOpen && md.pdOpen.parentNode === md ? md.pdOpen : null;
    if (!grown) md.pdWhole = false;
    var from = open ? md.pdDone : 0;
    // marked reads "\r\n" as "\n": the lengths it gives would not match the text's
    var blocks = md.pdWhole || text.indexOf("\r") >= 0 ? null : pdMarkdownBlocks(text.slice(from));
    if (!blocks) {
      md.pdWhole = true;
      md.pdOpen = null;
      md.innerHTML = renderMarkdown(text);
      return;
    }
    if (open) {
      var range = document.createRange();
      range.setStartBefore(open);
      range.setEndAfter(md.lastChild);
      range.deleteContents();
    } else md.textContent = "";
    md.insertAdjacentHTML("beforeend", blocks.done);
    md.pdOpen = md.appendChild(document.createComment("open"));
    md.insertAdjacentHTML("beforeend", blocks.open);
    md.pdDone = from + blocks.doneLength;
  }

  // Plain text after the rendered part, in pieces of at most TAIL_PIECE characters. A browser lays out a paragraph
  // as a whole whenever it changes, so a paragraph that kept growing would cost every frame more than the tokens it
  // adds: a short last paragraph is continued in place, the rest goes in blocks of its own below it (in `.md-more`,
  // there from the render on, so that no rendered element's style changes when they come) until the next render.
  function appendTail(md, added, tailLength) {
    var text = added;
    if (!md.pdTail || !md.pdTail.isConnected || md.pdTailLength + added.length !== tailLength) {
      md.querySelectorAll(".md-tail").forEach(function (el) { el.remove(); });
      text = md.pdShown.slice(md.pdRenderedLength) + added;
      md.pdTail = null;
      md.pdTailLength = 0;
      var last = md.pdMore && md.pdMore.isConnected ? md.pdMore.previousElementSibling : null;
      var room = last && last.tagName === "P" ? TAIL_PIECE - last.textContent.length : 0;
      if (room > 0) tailPiece(md, last, "span", room, md.pdGap);
    }
    md.pdTailLength += text.length;
    md.pdShown += added;
    while (text) {
      var left = md.pdTail ? md.pdTailRoom - md.pdTail.length : 0;
      var cut = text.length <= left ? text.length : text.lastIndexOf(" ", left);  // pieces end between words
      if (cut <= 0 && md.pdTail && !md.pdTail.length && left === TAIL_PIECE) cut = left;  // a word longer than a piece
      if (cut <= 0) {
        if (!md.pdMore || !md.pdMore.isConnected) md.pdMore = md.appendChild(moreBox());
        tailPiece(md, md.pdMore, "div", TAIL_PIECE);
        continue;
      }
      md.pdTail.appendData(text.slice(0, cut));
      text = text.slice(cut);
    }
  }

  function tailPiece(md, parent, tag, room, gap) {
    var piece = document.createElement(tag);
    piece.className = "md-tail";
    if (gap) piece.appendChild(document.createTextNode(" "));  // the render dropped the space the text ended with
    md.pdTail = piece.appendChild(document.createTextNode(""));
    md.pdTailRoom = room;
    parent.appendChild(piece);
  }

  function moreBox() {
    var more = document.createElement("div");
    more.className = "md-more";
    return more;
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

  // Each flush costs layout: the next one waits ten times as long as this one took (full renders apart: they have
  // their own wait), so however long the answer, the page keeps most of its time (and of the CPU) for the tokens.
  // At most MAX_WAIT: most of a flush's cost is laying out the text that came meanwhile, which a longer wait only
  // piles up (traced at 50k tokens/s: waits of 0.5 s, each flush then laying out 0.1 s of text the reader waited for).
  function flush() {
    scheduled = false;
    renderCost = 0;
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
    nextFlush = now + Math.min(MAX_WAIT, 10 * (now - started - renderCost));
  }

  function schedule() {
    if (scheduled) return;
    scheduled = true;
    var wait = nextFlush - performance.now();
    if (wait > FRAME_MS) setTimeout(function () { requestAnimationFrame(flush); }, wait - FRAME_MS);
    else requestAnimationFrame(flush);
  }

  // Many tokens can arrive per frame: each changed message is looked at once per frame at most.
  function queue(msg) {
    pending.add(msg);
    schedule();
  }

  // A live message's first words, and the last words of an answer that just finished, are drawn as they arrive,
  // not at the next flush (which may wait behind a long answer's layout): they are what the reader waits for. The
  // next frame shows them; a finished answer's final render follows on the next flush (its `md` survives the final
  // swap: hx-preserve in server/llm/views.py).
  function drawNow(msg) {
    var md = msg.querySelector(".md");
    if (!md) return;
    var streaming = isStreaming(msg);
    if (md.pdShown && (streaming || !md.pdLive)) return;
    md.pdLive = streaming;
    try { if (render(msg, true)) keepUp(true); }
    catch (err) { console.error("chat: could not draw a message", err); }
  }

  // A message swapped in again (a streamed answer's final version) is updated in place: its attributes and its other
  // parts are replaced and its drawn `.md` stays where it is. Replacing the element, even with hx-preserve moving the
  // `.md` across, makes the browser lay out the whole answer again before its last words show (traced: 0.1 s for a
  // long answer).
  function updateInPlace(e) {
    var old = e.detail.target, fragment = e.detail.fragment;
    if (!old || !old.classList || !old.classList.contains("msg") || !fragment || fragment.children.length !== 1) return;
    var next = fragment.firstElementChild, md = old.querySelector(":scope > .md");
    var nextMd = next.querySelector(":scope > .md");
    if (next.id !== old.id || !md || !nextMd || nextMd.id !== md.id) return;
    Array.from(old.attributes).forEach(function (a) { if (!next.hasAttribute(a.name)) old.removeAttribute(a.name); });
    Array.from(next.attributes).forEach(function (a) { old.setAttribute(a.name, a.value); });
    Array.from(old.childNodes).forEach(function (node) { if (node !== md) old.removeChild(node); });
    var before = true;
    Array.from(next.childNodes).forEach(function (node) {
      if (node === nextMd) before = false;
      else if (before) old.insertBefore(node, md);
      else old.appendChild(node);
    });
    e.detail.shouldSwap = false;
  }

  // The chat form is sent here, not by htmx's ws-send: its form serialisation and events took 2.5 ms (more on a
  // fresh page) between Enter and the message leaving, time the answer's first words then waited for. The message is
  // what ws-send sends: the fields and htmx's request headers (the socket's URL carries the CSRF token, app.js).
  var socket = null;  // the chat panel's htmx socket wrapper (it reconnects and queues while down)
  function sendMessage(e) {
    var form = e.target;
    if (form.id !== "chat-form" || !socket) return;  // no socket yet: htmx sends it once connected
    e.preventDefault();
    e.stopPropagation();
    var body = { msg: form.elements.msg.value,
                 HEADERS: { "HX-Request": "true", "HX-Trigger": form.id, "HX-Trigger-Name": null,
                            "HX-Target": form.id, "HX-Current-URL": location.href } };
    socket.send(JSON.stringify(body));  // no element: htmx's before/after-send events cost 2.6 ms (traced)
    sent();
  }

  // Whoever just wrote wants to see their message and its answer: the log goes there when their message is drawn
  // (going there now, or in the next frame, lays out the page while the answer's first words are on their way).
  function sent() {
    var form = document.getElementById("chat-form");
    if (form) form.reset();
    follow = true;
  }

  // Appends over the socket (the tokens of an answer, new messages) are put in place here: htmx's swap of a message
  // (parsing with DOMParser, its oob machinery, settling, processing nodes that have nothing to process) cost more
  // than drawing it, and on a fresh page the user's message and the empty answer held the first token back by ~10 ms
  // (traced). Anything else, or anything htmx would have to bind (hx-, ws- attributes), is left to htmx.
  var parser = document.createElement("template");
  var BOUND = /^(data-)?(hx|ws|sse)-/;
  function plain(el) {
    var all = [el].concat(Array.from(el.querySelectorAll("*")));
    return all.every(function (node) {
      return Array.from(node.attributes).every(function (a) {
        return !BOUND.test(a.name) || a.name === "hx-preserve" || (node === el && a.name === "hx-swap-oob");
      });
    });
  }
  function appendDirect(e) {
    var message = e.detail.message;
    if (e.target.id !== "chat" || typeof message !== "string" || message.indexOf('hx-swap-oob="beforeend:') < 0) return;
    parser.innerHTML = message;
    var parts = Array.from(parser.content.children), targets = [];
    for (var i = 0; i < parts.length; i++) {
      var how = parts[i].getAttribute("hx-swap-oob") || "";
      var target = how.indexOf("beforeend:") === 0 && document.querySelector(how.slice(10));
      if (!target || !plain(parts[i])) { parser.innerHTML = ""; return; }
      targets.push(target);
    }
    e.preventDefault();  // htmx:wsBeforeMessage: htmx leaves this message alone
    parts.forEach(function (part, i) {
      var target = targets[i], added = Array.from(part.childNodes);
      added.forEach(function (node) { target.appendChild(node); });
      // What htmx's swap reports: the other scripts' htmx.onLoad hooks (chat.js's queues the new messages).
      added.forEach(function (node) { if (node.nodeType === 1) htmx.trigger(node, "htmx:load"); });
      // Drawn now, not at the next frame: the user's message arrives while the answer's first token is still on its
      // way, and drawn in that frame it held the token back (traced: the frame came just as the token did).
      var msg = target.closest(".msg");
      if (msg) { drawNow(msg); queue(msg); }
      else added.forEach(function (node) { if (node.nodeType === 1 && node.classList.contains("msg")) drawNow(node); });
    });
    parser.innerHTML = "";
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
    document.addEventListener("htmx:oobBeforeSwap", updateInPlace);
    document.addEventListener("htmx:oobAfterSwap", function (e) {
      var t = e.detail.target;
      if (t && t.id === "chat-effects") { refreshTasks(); return; }
      if (t && t.id === "chat-log" && !t.children.length) { follow = true; showMore(false); return; }
      // An outerHTML swap reports the element it replaced as its target: the new one is where the event fired.
      var here = e.target && e.target.isConnected && e.target.closest && e.target.closest(".msg");
      var msg = here || (t && t.closest && t.closest(".msg"));
      if (msg) drawNow(msg);
      queueWithin(t);
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
    document.addEventListener("htmx:wsOpen", function (e) {
      if (e.target.id === "chat") socket = e.detail.socketWrapper;
    });
    document.addEventListener("htmx:wsClose", function (e) {
      if (e.target.id === "chat") socket = null;  // while it is down (or replaced), htmx's ws-send queues
    });
    document.addEventListener("submit", sendMessage, true);  // capture: before htmx's ws-send on the form
    document.addEventListener("htmx:wsAfterSend", sent);  // what htmx sent for us while the socket was down
    document.addEventListener("htmx:wsBeforeMessage", appendDirect);
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
