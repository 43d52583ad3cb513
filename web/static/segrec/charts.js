/* Draws the report's charts with the vendored Chart.js. Each <canvas data-chart="KIND"
   data-source="ID"> reads its numbers from the <script type="application/json" id="ID">
   that Django's json_script wrote; the numbers come from web/presenters.py. */
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", sans-serif';
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.animation = false;

  function fmt(value, digits) { return value === null ? "-" : Number(value).toFixed(digits); }

  var builders = {
    sizes: function (d) {
      return {
        type: "bar",
        data: {labels: d.labels, datasets: [{label: "members", data: d.values, backgroundColor: d.colours}]},
        options: {indexAxis: "y", plugins: {legend: {display: false},
          tooltip: {callbacks: {label: function (c) {
            return c.raw.toLocaleString() + " members (" + (100 * c.raw / d.total).toFixed(1) + "%)"; }}}},
          scales: {x: {title: {display: true, text: "members"}}}}
      };
    },
    map: function (d) {
      return {
        type: "scatter",
        data: {datasets: d.series.map(function (s) {
          return {label: s.label, backgroundColor: s.colour, pointRadius: 2,
                  data: s.points.map(function (p) { return {x: p[0], y: p[1]}; })}; })},
        options: {plugins: {tooltip: {enabled: false}},
          scales: {x: {title: {display: true, text: "first principal axis"}},
                   y: {title: {display: true, text: "second principal axis"}}}}
      };
    },
    ksweep: function (d) {
      var radius = d.k.map(function (k) { return k === d.chosen ? 7 : 3; });
      return {
        type: "line",
        data: {labels: d.k, datasets: [
          {label: "silhouette", data: d.silhouette, borderColor: "#2f6fba", backgroundColor: "#2f6fba", pointRadius: radius},
          {label: "stability (ARI)", data: d.stability, borderColor: "#d9822b", backgroundColor: "#d9822b", pointRadius: radius},
          {label: "stable ≥ " + d.stable, data: d.k.map(function () { return d.stable; }),
           borderColor: "#d9822b", borderDash: [3, 3], pointRadius: 0, borderWidth: 1}
        ]},
        options: {scales: {x: {title: {display: true, text: "k (number of segments; chosen k = " + d.chosen + ", large dots)"}},
                           y: {title: {display: true, text: "score"}}}}
      };
    },
    lift: function (d) {
      return {
        type: "bar",
        data: {labels: d.labels, datasets: [
          {label: "lift", data: d.lift, backgroundColor: "#2f6fba"},
          {label: "95% interval of the lift", data: d.interval, backgroundColor: "rgba(217,130,43,.45)"}
        ]},
        options: {indexAxis: "y", plugins: {tooltip: {callbacks: {afterLabel: function (c) {
            var n = d.support[c.dataIndex]; return n === null ? "" : "support: " + n; }}}},
          scales: {x: {min: 0, title: {display: true, text: "lift (1 = as common as among all members)"}}}}
      };
    },
    grouped: function (d) {
      return {
        type: "bar",
        data: {labels: d.labels, datasets: d.series.map(function (s) {
          return {label: s.label, data: s.values, backgroundColor: s.colour}; })},
        options: {plugins: {tooltip: {callbacks: {label: function (c) {
          return c.dataset.label + ": " + fmt(c.raw, 4); }}}}}
      };
    },
    stacked: function (d) {
      return {
        type: "bar",
        data: {labels: d.labels, datasets: d.series.map(function (s) {
          return {label: s.label, data: s.values, backgroundColor: s.colour}; })},
        options: {indexAxis: "y", scales: {x: {stacked: true, title: {display: true, text: "members"}}, y: {stacked: true}}}
      };
    }
  };

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var source = document.getElementById(canvas.dataset.source);
    var build = builders[canvas.dataset.chart];
    if (source && build) { new Chart(canvas, build(JSON.parse(source.textContent))); }
  });
})();
