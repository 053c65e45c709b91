/* Dashboard charts: each <canvas data-chart="ID"> draws the JSON data island #ID (written by
   Django's json_script, never inline script: the CSP allows none) with the vendored Chart.js.
   Runs on page load and after every HTMX swap, since panels arrive on their own. Colours are
   the Okabe-Ito palette, which stays distinct for the common colour blindnesses; every chart
   has the same numbers in a table next to it for screen readers. */
(function () {
  "use strict";
  var PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000", "#999999"];

  function draw(canvas) {
    if (canvas.dataset.drawn || typeof window.Chart === "undefined") { return; }
    var island = document.getElementById(canvas.dataset.chart);
    if (!island) { return; }
    var spec = JSON.parse(island.textContent);
    canvas.dataset.drawn = "1";
    var datasets = spec.datasets.map(function (set, index) {
      var colour = PALETTE[index % PALETTE.length];
      return {
        label: set.label, data: set.data, backgroundColor: colour, borderColor: colour,
        borderWidth: spec.type === "line" ? 2 : 0, pointRadius: 2, tension: 0
      };
    });
    new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
        scales: {
          x: { stacked: !!spec.stacked },
          y: { stacked: !!spec.stacked, beginAtZero: true, ticks: { precision: 0 } }
        }
      }
    });
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.removeAttribute) { target.removeAttribute("aria-busy"); }
    drawAll(target || document);
  });
  /* Printing: charts are redrawn at the paper's width. */
  window.addEventListener("beforeprint", function () {
    if (typeof window.Chart === "undefined") { return; }
    Object.values(window.Chart.instances || {}).forEach(function (chart) { chart.resize(); });
  });
})();
