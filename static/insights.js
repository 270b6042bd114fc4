// The insights screen's charts: PageRank share and inlinks distribution by group, drawn with Chart.js.
(function () {
  "use strict";

  var PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
                 "#b07aa1", "#ff9da7", "#9c755f", "#17becf", "#bcbd22", "#8c6bb1", "#7f7f7f", "#4a4f57"];

  function colour(i) { return PALETTE[i % PALETTE.length]; }

  function percent(v) { return (v * 100).toPrecision(3) + " %"; }

  function shareChart(canvas, data) {
    return new Chart(canvas, {
      type: "bar",
      data: { labels: data.labels, datasets: [{ label: "PageRank share", data: data.share,
              backgroundColor: data.labels.map(function (x, i) { return colour(i); }) }] },
      options: { indexAxis: "y", animation: false, maintainAspectRatio: false,
                 plugins: { legend: { display: false },
                            tooltip: { callbacks: { label: function (c) { return percent(c.raw); } } } },
                 scales: { x: { ticks: { callback: function (v) { return percent(v); } } } } },
    });
  }

  function inlinksChart(canvas, data) {
    var sets = data.labels.map(function (label, i) {
      return { label: label, data: data.inlinks[i], backgroundColor: colour(i) };
    });
    return new Chart(canvas, {
      type: "bar",
      data: { labels: data.buckets, datasets: sets },
      options: { animation: false, maintainAspectRatio: false,
                 scales: { x: { stacked: true, title: { display: true, text: "inlinks" } },
                           y: { stacked: true, title: { display: true, text: "pages" } } } },
    });
  }

  function init(root) {
    var box = root.matches && root.matches("#charts") ? root : root.querySelector("#charts");
    if (!box || box.charts || !box.dataset.chart) return;
    var data = JSON.parse(box.dataset.chart);
    box.charts = [shareChart(box.querySelector("#chart-share"), data),
                  inlinksChart(box.querySelector("#chart-inlinks"), data)];
    box.dataset.state = "ready";
  }

  htmx.onLoad(init);
  if (document.readyState !== "loading") init(document.body);
})();
