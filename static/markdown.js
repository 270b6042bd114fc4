// LLM Markdown to safe HTML: `pdMarkdown(text)` returns markup that, once in the page, fetches nothing.
// An answer (or a prompt injection inside it) must not make the page load images from elsewhere: that would send
// the launch cookie to another local port and leak the conversation in the URL. Images become links; raw HTML is
// shown as text; links carry no Referer and open outside the app (app.js hands them to the system browser).
(function () {
  function escapeHtml(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }
  // Inline images only as data: URLs of plain raster formats (nothing to fetch, no script inside).
  var INLINE_IMAGE = /^data:image\/(png|jpeg|gif|webp);base64,[a-z0-9+/=\s]+$/i;

  var md = new marked.Marked({
    renderer: {
      html: function (token) { return escapeHtml(typeof token === "string" ? token : token.text); },
      image: function (token) {
        var href = token.href || "", label = token.text || token.title || href;
        if (INLINE_IMAGE.test(href)) return '<img src="' + escapeHtml(href) + '" alt="' + escapeHtml(label) + '">';
        return '<a href="' + escapeHtml(href) + '">' + escapeHtml("Image: " + label) + "</a>";
      },
    },
  });

  // A DOMPurify of our own: its hooks must not change how anything else in the page is sanitised.
  var purify = DOMPurify(window);
  var FETCHING_TAGS = ["audio", "base", "embed", "frame", "iframe", "image", "link", "meta", "object", "picture",
                       "source", "style", "svg", "math", "track", "video", "form", "input", "button", "textarea"];
  var FETCHING_ATTRS = ["style", "srcset", "poster", "background", "action", "formaction", "ping", "xlink:href"];
  purify.addHook("afterSanitizeAttributes", function (node) {
    if (node.tagName === "IMG" && !INLINE_IMAGE.test(node.getAttribute("src") || "")) node.removeAttribute("src");
    if (node.tagName === "A" && node.hasAttribute("href")) {
      node.setAttribute("rel", "noopener noreferrer");
      // Another site opens in a new tab of the browser (the native window hands it to the system browser).
      var url = null;
      try { url = new URL(node.getAttribute("href"), location.href); } catch (e) { /* "http://[::1" and the like */ }
      if (!url) node.removeAttribute("href");  // nothing to open; the rest of the answer still renders
      else if (url.origin !== location.origin) node.setAttribute("target", "_blank");
    }
  });

  // Set once: a config passed to sanitize() is parsed again on every call (DOMPurify rebuilds its tag and attribute
  // sets), which took most of a render's time (profiled: 3.6 of 4.1 ms for a one-word message, twice per render).
  purify.setConfig({ FORBID_TAGS: FETCHING_TAGS, FORBID_ATTR: FETCHING_ATTRS });

  function sanitize(html) {
    return purify.sanitize(html);
  }

  window.pdMarkdown = function (text) {
    return sanitize(md.parse(text));
  };

  // The same HTML in two parts, for a text that is still growing: `done`, the blocks that more text can no longer
  // change (all before the last block that is not blank lines), and `open`, the rest; `doneLength` is how much of the
  // text the done blocks take. Null when a link reference definition is there: it changes links anywhere in the text.
  window.pdMarkdownBlocks = function (text) {
    var tokens = md.lexer(text);
    if (Object.keys(tokens.links).length) return null;
    var last = tokens.length - 1;
    while (last > 0 && tokens[last].type === "space") last--;
    var done = tokens.slice(0, Math.max(last, 0)), open = tokens.slice(Math.max(last, 0));
    done.links = open.links = tokens.links;
    var doneLength = done.reduce(function (n, token) { return n + token.raw.length; }, 0);
    return { done: sanitize(md.parser(done)), open: sanitize(md.parser(open)), doneLength: doneLength };
  };

  // The first message drawn on a page paid for compiling marked and DOMPurify (V8 compiles a function when first
  // called): 5-15 ms, traced, while the answer's first token waited behind it. Render once when the page is idle.
  (window.requestIdleCallback || setTimeout)(function () { window.pdMarkdownBlocks("A *b* `c` [d](#e)\n\n- f\n"); });
})();
