/* A system's availability and usage charts: fetches data-charts-url (JSON) and draws each chart
   with uPlot (portal/static/vendor/uplot). Times are drawn in Beijing time whatever the browser's
   zone; the words come from the page (data-*) and the JSON, in the user's language. */
(function () {
  "use strict";
  var grid = document.getElementById("chart-grid");
  if (!grid || typeof uPlot === "undefined") { return; }
  var lang = grid.dataset.lang || "zh-CN";
  var zh = lang.indexOf("zh") === 0;
  var ZONE = "Asia/Shanghai";
  var COLORS = ["#0d6efd", "#198754", "#d63384", "#fd7e14", "#6f42c1", "#20c997", "#dc3545", "#6c757d"];

  function beijing(ts) { return uPlot.tzDate(new Date(ts * 1000), ZONE); }
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function day(d) { return zh ? (d.getMonth() + 1) + "月" + d.getDate() + "日" : pad(d.getMonth() + 1) + "-" + pad(d.getDate()); }
  function clock(d) { return pad(d.getHours()) + ":" + pad(d.getMinutes()); }
  function number(v) {
    if (v === null || v === undefined) { return "—"; }
    return Math.abs(v) >= 100 ? v.toFixed(0) : (Math.round(v * 100) / 100).toString();
  }

  function timeTicks(u, splits, axisIdx, space, incr) {
    return splits.map(function (ts) {
      var d = beijing(ts);
      if (incr >= 86400 || (d.getHours() === 0 && d.getMinutes() === 0)) { return day(d); }
      return clock(d);
    });
  }

  function draw(chart, holder) {
    var unit = chart.unit;
    var series = [{label: grid.dataset.timeText, value: function (u, ts) { if (ts === null) { return "—"; } var d = beijing(ts); return day(d) + " " + clock(d); }}];
    var data = [chart.x];
    chart.series.forEach(function (s, i) {
      series.push({label: s.label, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: false,
                   value: function (u, v) { return v === null ? "—" : number(v) + (unit === "%" ? "%" : " " + unit); }});
      data.push(s.values);
    });
    var yRange = chart.y_max !== null ? function (u, min, max) { return [Math.min(0, min || 0), chart.y_max]; }
                                      : function (u, min, max) { return [0, max > 0 ? max * 1.15 : 1]; };
    var opts = {
      width: Math.max(280, holder.clientWidth - 8),
      height: 200,
      tzDate: beijing,
      scales: {x: {time: true}, y: {range: yRange}},
      axes: [
        {values: timeTicks, stroke: "#495057", grid: {stroke: "#e9ecef"}},
        {values: function (u, splits) { return splits.map(function (v) { return number(v) + (unit === "%" ? "%" : ""); }); },
         stroke: "#495057", grid: {stroke: "#e9ecef"}, size: 56}
      ],
      series: series,
      legend: {live: true}
    };
    return new uPlot(opts, data, holder);
  }

  function hasData(chart) {
    return chart.series.some(function (s) { return s.values.some(function (v) { return v !== null; }); });
  }

  function render(payload) {
    var plots = [];
    if (payload.month_availability !== null && payload.month_availability !== undefined) {
      document.getElementById("month-availability").textContent =
        grid.dataset.monthText + (zh ? "：" : ": ") + payload.month_availability + "%";
    }
    payload.charts.forEach(function (chart) {
      var figure = document.createElement("figure");
      figure.className = "chart";
      figure.id = "chart-" + chart.id;
      figure.dataset.series = String(chart.series.length);
      var caption = document.createElement("figcaption");
      caption.textContent = chart.title;
      figure.appendChild(caption);
      var holder = document.createElement("div");
      holder.className = "chart-plot";
      figure.appendChild(holder);
      grid.appendChild(figure);
      if (hasData(chart)) {
        plots.push({plot: draw(chart, holder), holder: holder});
      } else {
        holder.className = "chart-empty text-muted";
        holder.textContent = grid.dataset.emptyText;
      }
    });
    grid.dataset.rendered = String(plots.length);
    window.addEventListener("resize", function () {
      plots.forEach(function (p) { p.plot.setSize({width: Math.max(280, p.holder.clientWidth - 8), height: 200}); });
    });
  }

  fetch(grid.dataset.chartsUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    })
    .then(render)
    .catch(function () {
      grid.textContent = grid.dataset.errorText;
      grid.dataset.rendered = "error";
    });
}());
