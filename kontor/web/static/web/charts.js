// Draws the charts of web/_chart.html with Chart.js (installed by npm, served from
// static/vendor/). Each [data-chart] box names the json_script element holding its data
// (kontor.web.charts.Chart.data) and the library's URL, loaded once, only on pages with a
// chart. The table beside each chart holds the same figures, so without JavaScript, or if
// the library fails to load, nothing is lost: the failure is reported in the console.
(function () {
  "use strict";

  // Told apart by hue and by lightness (colour-blind safe); the first is Kontor's primary.
  var PALETTE = ["#2f5ce6", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#8c6d1f", "#636b78"];
  var library = null;

  function loadLibrary(src) {
    if (window.Chart) return Promise.resolve(window.Chart);
    if (!library) {
      library = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = src;
        script.onload = function () { resolve(window.Chart); };
        script.onerror = function () { reject(new Error("could not load the chart library " + src)); };
        document.head.appendChild(script);
      });
    }
    return library;
  }

  function reducedMotion() {
    return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  }

  // Axis ticks: short ("12K", "€1.2M"); tooltips and the table show the exact figure.
  function tickFormat(data) {
    var options = { notation: "compact", maximumFractionDigits: 1 };
    if (data.format === "money") {
      options.style = "currency";
      options.currency = data.currency;
    }
    var format;
    try {
      format = new Intl.NumberFormat(data.locale, options);
    } catch (error) { // an unknown currency code: the number alone
      format = new Intl.NumberFormat(data.locale, { notation: "compact" });
    }
    return function (value) {
      return data.format === "percent" ? format.format(value) + "\u00a0%" : format.format(value);
    };
  }

  function colour(index) {
    return PALETTE[index % PALETTE.length];
  }

  function config(data) {
    var kind = data.kind;
    var horizontal = kind === "horizontal_bar" || kind === "funnel";
    var datasets = data.series.map(function (series, index) {
      var values = series.values.map(Number);
      var dataset = {
        label: series.name,
        // A funnel's bars are centred on zero: each spans -v/2 to v/2.
        data: kind === "funnel" ? values.map(function (v) { return [-v / 2, v / 2]; }) : values,
        backgroundColor: kind === "doughnut" ? values.map(function (_, i) { return colour(i); }) : colour(index),
        borderColor: kind === "doughnut" ? "#ffffff" : colour(index),
      };
      if (kind === "line") {
        dataset.fill = false;
        dataset.tension = 0.2;
        dataset.pointRadius = 4;
        dataset.pointHoverRadius = 6;
      }
      return dataset;
    });
    var ticks = tickFormat(data);
    var valueAxis = horizontal ? "x" : "y";
    var scales = {};
    if (kind !== "doughnut") {
      scales.x = { stacked: kind === "stacked_bar" };
      scales.y = { stacked: kind === "stacked_bar" };
      scales[valueAxis].beginAtZero = true;
      // Counts have whole ticks only (no "2.5 tasks").
      scales[valueAxis].ticks = { callback: ticks, precision: data.format === "count" ? 0 : undefined };
      if (kind === "funnel") scales.x.display = false;
      if (kind === "line") scales.x.offset = true; // the first and last points not cut in half
    }
    return {
      type: kind === "line" ? "line" : kind === "doughnut" ? "doughnut" : "bar",
      data: { labels: data.labels, datasets: datasets },
      options: {
        responsive: true, // redrawn to its box's size when the window or layout changes
        maintainAspectRatio: false,
        animation: reducedMotion() ? false : { duration: 400 },
        indexAxis: horizontal ? "y" : "x",
        scales: scales,
        plugins: {
          legend: { display: data.series.length > 1 || kind === "doughnut" },
          tooltip: {
            callbacks: {
              label: function (context) {
                var series = data.series[context.datasetIndex];
                return series.name + ": " + series.display[context.dataIndex];
              },
            },
          },
        },
      },
    };
  }

  function urlAt(data, element) {
    return data.series[element.datasetIndex].urls[element.index] || "";
  }

  function draw(box, Chart) {
    var data = JSON.parse(document.getElementById(box.getAttribute("data-chart")).textContent);
    var canvas = box.querySelector("canvas");
    var settings = config(data);
    // A figure opens the records behind it: the pointer shows where one does.
    settings.options.onHover = function (event, elements) {
      canvas.style.cursor = elements.length && urlAt(data, elements[0]) ? "pointer" : "";
    };
    settings.options.onClick = function (event, elements) {
      var url = elements.length ? urlAt(data, elements[0]) : "";
      if (url) window.location.assign(url);
    };
    new Chart(canvas, settings);
    box.setAttribute("data-chart-state", "drawn");
  }

  function drawAll(root) {
    var boxes = [];
    if (root.matches && root.matches("[data-chart]")) boxes.push(root);
    root.querySelectorAll("[data-chart]").forEach(function (box) { boxes.push(box); });
    boxes.forEach(function (box) {
      if (box.hasAttribute("data-chart-state")) return;
      box.setAttribute("data-chart-state", "loading");
      loadLibrary(box.getAttribute("data-chart-library")).then(
        function (Chart) { draw(box, Chart); },
        function (error) {
          box.setAttribute("data-chart-state", "failed");
          console.error("Kontor charts:", error.message);
        }
      );
    });
  }

  drawAll(document);
  // Charts in content that htmx swaps in.
  document.addEventListener("htmx:load", function (event) { drawAll(event.detail.elt); });
})();
