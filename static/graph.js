// The link-graph viewer: typed arrays from the server straight into cosmos.gl (GPU force layout, WebGL drawing).
(function () {
  "use strict";

  var PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
                 "#b07aa1", "#ff9da7", "#9c755f", "#17becf", "#bcbd22", "#8c6bb1"];
  var OTHER = "#7f7f7f", MISSING = "#4a4f57", PLAIN = "#6fa8dc";
  var NUMBER_STOPS = ["#2c3e91", "#1f9e89", "#f0e442"];  // low → high, log scale
  // Software WebGL (no GPU) draws a frame of this many links in seconds: above it links and the layout wait
  // for the user to switch them on, so the first picture comes quickly and the page stays responsive.
  var SOFTWARE_LIMIT = 50000;
  var MISSING_CODE = 4294967295;

  function rgba(hex) {
    var n = parseInt(hex.slice(1), 16);
    return [(n >> 16 & 255) / 255, (n >> 8 & 255) / 255, (n & 255) / 255, 1];
  }

  function mix(a, b, t) { return a.map(function (v, i) { return v + (b[i] - v) * t; }); }

  function numberColour(t) {
    var stops = NUMBER_STOPS.map(rgba);
    return t < 0.5 ? mix(stops[0], stops[1], t * 2) : mix(stops[1], stops[2], (t - 0.5) * 2);
  }

  function webglAvailable() {
    try {
      var canvas = document.createElement("canvas");
      return !!(canvas.getContext("webgl2") || canvas.getContext("webgl"));
    } catch (e) { return false; }
  }

  function softwareRenderer() {
    try {
      var gl = document.createElement("canvas").getContext("webgl");
      var info = gl && gl.getExtension("WEBGL_debug_renderer_info");
      var name = info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : "";
      return /swiftshader|llvmpipe|software/i.test(name);
    } catch (e) { return false; }
  }

  // The server's starting layout fills the whole space; a small graph's force layout settles far inside it,
  // so start it about the size it will end up (radius ~ sqrt(n)) instead of watching it shrink.
  function compact(positions, n) {
    var half = 2048, factor = Math.min(1, 15 * Math.sqrt(n) / (half * 0.9));
    for (var i = 0; i < positions.length; i++) positions[i] = half + (positions[i] - half) * factor;
    return positions;
  }

  function fetchArray(url, Type) {
    return fetch(url).then(function (r) {
      if (!r.ok) throw new Error(url + ": " + r.status);
      return r.arrayBuffer();
    }).then(function (buf) { return new Type(buf); });
  }

  function Viewer(root, config) {
    this.root = root;
    this.config = config;
    this.base = config.base;
    this.status = root.querySelector("#graph-status");
    this.legend = root.querySelector("#graph-legend");
    this.details = root.querySelector("#graph-node");
    this.hits = root.querySelector("#graph-hits");
    this.searches = 0;
    this.columns = {};
    config.columns.forEach(function (c) { this.columns[c.name] = c; }, this);
    this.software = softwareRenderer();
    this.heavy = this.software && config.edges > SOFTWARE_LIMIT;
  }

  Viewer.prototype.say = function (text) { this.status.textContent = text; };

  // cosmos redraws every frame even when nothing moves; a still graph of 200k points would keep a CPU core busy
  // forever without a GPU. Frames stop after a quiet spell and restart on any input. (start/stopFrames are
  // internal to cosmos.gl 2.6, hence the guard.)
  var IDLE_MS = 2000;
  Viewer.prototype.wake = function () {
    var self = this, g = this.graph;
    if (!g || typeof g.stopFrames !== "function") return;
    this.woken = (this.woken || 0) + 1;
    if (this.sleeping) { g.startFrames(); this.sleeping = false; }
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(function () { self.sleep(); }, IDLE_MS);
  };

  Viewer.prototype.sleep = function () {
    if (this.graph.isSimulationRunning) { this.wake(); return; }
    this.rest();
  };

  // Frames stop at once, layout or not: while a search or a click is answered. Software WebGL takes about half a
  // second per frame of a large graph and the page can do nothing else meanwhile, so the details would wait.
  Viewer.prototype.rest = function () {
    var g = this.graph;
    clearTimeout(this.idleTimer);
    if (!g || typeof g.stopFrames !== "function" || this.sleeping) return;
    g.stopFrames();
    this.sleeping = true;
  };

  // Without a GPU, a change (a highlight, a jump) is drawn in a few frames and then the frames stop, unless the
  // user has done something since: each frame keeps the GPU busy for a while, and the next click's details would
  // wait for it to finish.
  Viewer.prototype.settle = function (frames) {
    var self = this, woken = this.woken;
    (function count(left) {
      requestAnimationFrame(function () {
        if (self.woken !== woken) return;
        if (left > 1) count(left - 1); else self.rest();
      });
    })(frames);
  };

  // Runs `fn` once the browser has painted what the page holds now (the next frame, then a task after it).
  function afterPaint(fn) { requestAnimationFrame(function () { setTimeout(fn, 0); }); }

  // No WebGL at all (a blocklisted driver, a locked-down browser): say so in words and offer the ways out,
  // instead of a black box or cosmos' own message.
  Viewer.prototype.noWebgl = function () {
    this.root.querySelector("#graph-nowebgl").hidden = false;
    this.root.querySelector(".graph-stage").hidden = true;
    this.root.querySelector(".graph-controls").hidden = true;
    this.root.dataset.state = "nowebgl";
  };

  Viewer.prototype.load = function () {
    var self = this, base = this.base + "/data/";
    if (!webglAvailable()) { this.noWebgl(); return Promise.resolve(); }
    this.say("Loading " + this.config.nodes.toLocaleString() + " pages and " +
             this.config.edges.toLocaleString() + " links…");
    return Promise.all([fetchArray(base + "positions", Float32Array), fetchArray(base + "links", Float32Array),
                        fetchArray(base + "inbound", Float32Array), fetchArray(base + "pagerank", Float32Array)])
      .then(function (arrays) {
        self.inbound = arrays[2];
        self.pagerank = arrays[3];
        self.draw(arrays[0], arrays[1]);
      })
      .catch(function (e) {
        self.root.dataset.state = "failed";
        self.say("The graph could not be loaded: " + e.message);
      });
  };

  Viewer.prototype.draw = function (positions, links) {
    var self = this, n = this.config.nodes;
    this.graph = new Cosmos.Graph(this.root.querySelector("#graph-canvas"), {
      backgroundColor: "#14181f", spaceSize: 4096, pointSize: 4, linkWidth: 0.6, linkColor: "#8c9bb0",
      linkOpacity: n > 20000 ? 0.25 : 0.5, linkGreyoutOpacity: 0.05, scalePointsOnZoom: false,
      renderLinks: !this.heavy, enableSimulation: true, fitViewOnInit: true, fitViewDelay: 0, fitViewDuration: 0,
      hoveredPointCursor: "pointer", renderHoveredPointRing: true, hoveredPointRingColor: "#ffffff",
      onSimulationEnd: function () { self.syncButtons(); self.autoFit(); self.wake(); },
      onZoomStart: function (e, userDriven) { if (userDriven) self.interacted = true; },
      onClick: function (index) {
        if (index === undefined) self.graph.unselectPoints();
        else self.select(index, false);
      },
    });
    this.graph.setPointPositions(compact(positions, n));
    this.graph.setLinks(links);
    var styled = this.applyColour(this.config.colour).then(function () { return self.applySize(self.config.size); });
    styled.then(function () {
      self.graph.render();
      self.drawn = true;
      if (self.heavy) self.graph.pause();
      else [1500, 4000].forEach(function (ms) { setTimeout(function () { self.autoFit(); }, ms); });
      self.syncButtons();
      self.wake();
      // Two frames later cosmos has drawn its first picture: what the benchmark and the tests wait for.
      requestAnimationFrame(function () { requestAnimationFrame(function () {
        // Without a GPU nothing moves until the user acts: redrawing the same picture would only hold up the page.
        if (self.heavy) self.rest();
        window.graphReady = performance.now();
        self.root.dataset.state = "ready";
        self.say(self.heavy ? "Drawn without links and with the layout paused: this browser has no GPU, and " +
                 self.config.edges.toLocaleString() + " links would take seconds per frame. Use Show links and " +
                 "Resume layout to see them." : "");
      }); });
    });
  };

  // Follow the layout as it contracts, until the user takes the camera.
  Viewer.prototype.autoFit = function () { if (!this.interacted) { this.wake(); this.graph.fitView(400); } };

  Viewer.prototype.column = function (name) {
    var c = this.columns[name];
    if (!c) return Promise.resolve(null);
    if (!c.values) {
      var Type = c.kind === "number" ? Float32Array : Uint32Array;
      c.values = fetchArray(this.base + "/column/" + encodeURIComponent(name), Type);
    }
    return c.values;
  };

  Viewer.prototype.applyColour = function (name) {
    var self = this, n = this.config.nodes, c = this.columns[name];
    return this.column(name).then(function (values) {
      var colours = new Float32Array(n * 4), items = [];
      if (!c) {
        var plain = rgba(PLAIN);
        for (var i = 0; i < n; i++) colours.set(plain, i * 4);
        items.push([PLAIN, "every page", n]);
      } else if (c.kind === "category") {
        var table = c.categories.map(function (x, k) { return rgba(PALETTE[k % PALETTE.length]); });
        table.push(rgba(OTHER));
        var missing = rgba(MISSING);
        for (var j = 0; j < n; j++) colours.set(values[j] === MISSING_CODE ? missing : table[values[j]], j * 4);
        c.categories.forEach(function (x, k) { items.push([PALETTE[k % PALETTE.length], x.value, x.count]); });
        if (c.other) items.push([OTHER, "other values", c.other]);
        var empty = 0;
        for (var e = 0; e < n; e++) if (values[e] === MISSING_CODE) empty++;
        if (empty) items.push([MISSING, "no value", empty]);
      } else {
        var lo = Infinity, hi = -Infinity;
        for (var a = 0; a < n; a++) {
          if (!isNaN(values[a])) { lo = Math.min(lo, values[a]); hi = Math.max(hi, values[a]); }
        }
        var span = Math.log1p(Math.max(hi - lo, 0)) || 1, none = rgba(MISSING);
        for (var b = 0; b < n; b++) {
          colours.set(isNaN(values[b]) ? none : numberColour(Math.log1p(values[b] - lo) / span), b * 4);
        }
        if (lo <= hi) items.push(["gradient", name + ": " + lo.toLocaleString() + " → " + hi.toLocaleString(), null]);
      }
      self.wake();
      self.graph.setPointColors(colours);
      self.refresh();
      self.showLegend(name, items);
    });
  };

  Viewer.prototype.showLegend = function (name, items) {
    var list = document.createElement("ul");
    items.forEach(function (item) {
      var li = document.createElement("li"), swatch = document.createElement("span");
      swatch.className = "swatch";
      if (item[0] === "gradient") swatch.style.background = "linear-gradient(90deg," + NUMBER_STOPS.join(",") + ")";
      else { swatch.style.background = item[0]; li.dataset.colour = item[0]; }
      li.appendChild(swatch);
      var count = item[2] != null ? " (" + item[2].toLocaleString() + ")" : "";
      li.appendChild(document.createTextNode(" " + item[1] + count));
      list.appendChild(li);
    });
    var title = document.createElement("strong");
    title.textContent = name ? "Colour: " + name : "Colour";
    this.legend.replaceChildren(title, list);
  };

  // cosmos applies new colours and sizes when it next builds its buffers, which its render() does; without it
  // a change after the first picture reached the legend only. Before the first render there is nothing to redo.
  Viewer.prototype.refresh = function () { if (this.drawn) this.graph.render(); };

  Viewer.prototype.applySize = function (name) {
    var self = this, n = this.config.nodes;
    var source = name === "inbound" ? Promise.resolve(this.inbound)
      : name === "pagerank" ? Promise.resolve(this.pagerank) : this.column(name);
    return source.then(function (values) {
      var max = 0, sizes = new Float32Array(n);
      for (var i = 0; i < n; i++) if (values[i] > max) max = values[i];
      if (name === "pagerank") {
        // PageRank against the uniform share 1/n, on a log scale: pages below average stay small.
        var top = Math.log(max * n) || 1;
        for (var k = 0; k < n; k++) sizes[k] = 2 + 10 * Math.max(0, Math.log(values[k] * n)) / top;
      } else {
        var scale = Math.log1p(max) || 1;
        // Square-root-ish growth: hubs stand out without hiding their neighbours.
        for (var j = 0; j < n; j++) sizes[j] = 2 + 8 * Math.sqrt(Math.log1p(values[j] > 0 ? values[j] : 0) / scale);
      }
      self.wake();
      self.graph.setPointSizes(sizes);
      self.refresh();
    });
  };

  // `card` is the page's details when the search already brought them; otherwise they are asked for. The details
  // come first, with the drawing stopped: the server answers from its index in milliseconds, while highlighting
  // the page and zooming to it read positions back from the GPU, which takes a while in software WebGL.
  Viewer.prototype.select = function (index, zoom, card) {
    var self = this;
    this.rest();
    this.markHit(index);
    var shown = card ? Promise.resolve(this.showCard(card))
      : htmx.ajax("GET", this.base + "/node/" + index, { target: this.details, swap: "innerHTML" });
    shown.then(function () {
      afterPaint(function () {
        if (!self.graph) return;  // found before the drawing was ready: the details alone
        self.wake();
        self.graph.selectPointByIndex(index, true);  // the page and its neighbours; the rest greyed out
        // Without a GPU an animated zoom is a few slow frames that hold up whatever the user does next: jump.
        if (zoom) self.graph.zoomToPointByIndex(index, self.heavy ? 0 : 600, 4, true);
        if (self.heavy) self.settle(3);
      });
    });
  };

  Viewer.prototype.showCard = function (card) {
    this.details.innerHTML = card;
    htmx.process(this.details);
  };

  // The pages a search found, as links; the one whose details show is marked.
  Viewer.prototype.showHits = function (hits) {
    var items = hits.map(function (hit) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = "#";
      a.dataset.node = hit.id;
      a.title = hit.url;
      a.textContent = hit.url.replace(/^https?:\/\/[^\/]+/, "") || hit.url;  // the path tells pages of a site apart
      li.appendChild(a);
      return li;
    });
    this.hits.replaceChildren.apply(this.hits, items);
    this.hits.hidden = !items.length;
  };

  Viewer.prototype.markHit = function (index) {
    this.hits.querySelectorAll("a").forEach(function (a) {
      if (Number(a.dataset.node) === index) a.setAttribute("aria-current", "true");
      else a.removeAttribute("aria-current");
    });
  };

  Viewer.prototype.search = function (query) {
    var self = this, ticket = ++this.searches;
    if (!query.trim()) return;
    this.rest();
    fetch(this.base + "/search?details=true&q=" + encodeURIComponent(query)).then(function (r) { return r.json(); })
      .then(function (found) {
        if (ticket !== self.searches) return;  // a newer search was sent meanwhile
        var hits = found.hits;
        self.showHits(hits);
        if (!hits.length) { self.wake(); self.say("No page URL contains “" + query + "”."); return; }
        self.say(hits.length === 1 ? "Found " + hits[0].url : hits.length + (hits.length >= 20 ? "+" : "") +
                 " pages match; showing " + hits[0].url);
        self.select(hits[0].id, true, found.card);
      })
      .catch(function (e) { self.wake(); self.say("Searching failed: " + e.message); });
  };

  Viewer.prototype.syncButtons = function () {
    var pause = this.root.querySelector("#graph-pause"), links = this.root.querySelector("#graph-links");
    pause.textContent = this.graph.isSimulationRunning ? "Pause layout" : "Resume layout";
    links.textContent = this.linksShown() ? "Hide links" : "Show links";
  };

  Viewer.prototype.linksShown = function () { return this.graph.config.renderLinks; };

  Viewer.prototype.save = function () {
    var self = this, canvas = this.root.querySelector("#graph-canvas canvas");
    this.say("Saving…");
    canvas.toBlob(function (blob) {
      fetch(self.base + "/png", { method: "POST", body: blob, headers: { "Content-Type": "image/png" } })
        .then(function (r) { return r.text().then(function (html) { return { ok: r.ok, html: html }; }); })
        .then(function (res) {
          self.status.innerHTML = res.html;
          // The file lands in the downloads folder, out of sight: a short notice says so (app.js's toasts).
          pdToast(res.ok ? "Picture saved to the downloads folder." : self.status.textContent.trim(), res.ok ? "ok" : "error");
        })
        .catch(function (e) { self.say("Saving failed: " + e.message); pdToast("Saving failed: " + e.message, "error"); });
    }, "image/png");
  };

  Viewer.prototype.bind = function () {
    var self = this, on = function (id, fn) {
      self.root.querySelector(id).addEventListener("click", function () { if (self.graph) { self.wake(); fn(); } });
    };
    ["pointerdown", "pointermove", "wheel"].forEach(function (type) {
      self.root.querySelector("#graph-canvas").addEventListener(type, function () { self.wake(); }, { passive: true });
    });
    this.root.querySelector("#graph-search").addEventListener("submit", function (e) {
      e.preventDefault();
      self.search(self.root.querySelector("#graph-q").value);
    });
    this.hits.addEventListener("click", function (e) {
      var link = e.target.closest("a[data-node]");
      if (!link || !self.graph) return;
      e.preventDefault();
      self.select(Number(link.dataset.node), true);
    });
    this.root.querySelector("#graph-colour").addEventListener("change", function (e) {
      self.applyColour(e.target.value).catch(function (err) { self.say("Colouring failed: " + err.message); });
    });
    this.root.querySelector("#graph-size").addEventListener("change", function (e) {
      self.applySize(e.target.value).catch(function (err) { self.say("Sizing failed: " + err.message); });
    });
    on("#graph-fit", function () { self.graph.fitView(400); });
    on("#graph-zoom-in", function () { self.graph.setZoomLevel(self.graph.getZoomLevel() * 1.6, 250); });
    on("#graph-zoom-out", function () { self.graph.setZoomLevel(self.graph.getZoomLevel() / 1.6, 250); });
    on("#graph-pause", function () {
      if (self.graph.isSimulationRunning) self.graph.pause();
      else if (self.graph.progress >= 1) self.graph.start(0.3);
      else self.graph.unpause();
      self.syncButtons();
    });
    on("#graph-links", function () { self.graph.setConfig({ renderLinks: !self.linksShown() }); self.syncButtons(); });
    on("#graph-save", function () { self.save(); });
  };

  function init(root) {
    var view = root.matches && root.matches(".graph-view") ? root : root.querySelector(".graph-view");
    if (!view || view.viewer) return;
    var config = JSON.parse(view.dataset.config);
    view.viewer = new Viewer(view, config);
    window.graphViewer = view.viewer;
    view.viewer.bind();
    view.viewer.load();
  }

  htmx.onLoad(init);
  if (document.readyState !== "loading") init(document.body);
})();
