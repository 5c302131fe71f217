// Draws the Plotly figures the server built (data-figure holds the figure's JSON), on page
// load and whenever htmx swaps in a fragment. No inline script: the page's CSP forbids it.
// Each chart follows its box's width at once (a ResizeObserver, not Plotly's debounced window
// listener), so turning a phone or narrowing a window never leaves a chart wider than the page.
(function () {
  "use strict";

  var NARROW = 560;  // px: below this a chart gives its plot area more room (see fit)

  // Width-dependent layout: the figure's own margins at desktop width, tighter ones on a phone.
  // A chart with long category labels on the left (Top-5: a 220 px margin) keeps them on a
  // phone, shortened with an ellipsis to fit 42 % of the width, so the bars keep the rest.
  function fit(node, layout) {
    var width = Math.max(Math.round(node.getBoundingClientRect().width), 1);
    var base = node._baseLayout;
    var margin = Object.assign({}, base.margin || {});
    var labels = node._leftLabels;
    var title = Object.assign({}, base.title || {});
    var update = {width: width, margin: margin, title: title};
    var short = null;
    if (width < NARROW) {
      // The title gets its own line above the legend instead of running into it.
      margin.t = Math.max(margin.t || 0, 70);
      Object.assign(title, {y: 0.98, yanchor: "top", x: 0.02, xanchor: "left"});
      if (labels) {
        margin.l = Math.min(margin.l, Math.round(width * 0.42));
        var chars = Math.max(Math.floor(margin.l / 7), 4);
        short = labels.map(function (text) {
          return text.length > chars ? text.slice(0, chars - 1) + "\u2026" : text;
        });
      } else {
        margin.l = Math.min(margin.l || 0, 56);
      }
    }
    if (layout) {
      Object.assign(layout, update);
      if (short) { layout.yaxis = Object.assign({}, layout.yaxis, {tickmode: "array", tickvals: labels, ticktext: short}); }
      return layout;
    }
    update["yaxis.tickmode"] = short ? "array" : (base.yaxis && base.yaxis.tickmode) || null;
    update["yaxis.tickvals"] = short ? labels : null;
    update["yaxis.ticktext"] = short;
    return update;
  }

  function observe(node) {
    if (!window.ResizeObserver || node._chartObserver) { return; }
    var lastWidth = node.getBoundingClientRect().width;
    node._chartObserver = new ResizeObserver(function () {
      var width = node.getBoundingClientRect().width;
      if (!node.isConnected) { node._chartObserver.disconnect(); return; }  // swapped out by htmx
      if (Math.abs(width - lastWidth) < 1) { return; }
      lastWidth = width;
      window.Plotly.relayout(node, fit(node));
    });
    node._chartObserver.observe(node);
  }

  function draw(all) {
    if (!window.Plotly) { return; }
    var selector = all ? "[data-figure]" : "[data-figure]:not([data-drawn])";
    Array.prototype.forEach.call(document.querySelectorAll(selector), function (node) {
      var figure = JSON.parse(node.getAttribute("data-figure"));
      node._baseLayout = JSON.parse(JSON.stringify(figure.layout));
      var first = figure.data[0] || {};
      node._leftLabels = first.orientation === "h" && (figure.layout.margin || {}).l > 100 ? first.y : null;
      node.innerHTML = "";
      window.Plotly.newPlot(node, figure.data, fit(node, figure.layout), {displaylogo: false});
      node.setAttribute("data-drawn", "true");
      observe(node);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(false); });
  document.addEventListener("htmx:afterSettle", function () { draw(false); });
  // Back and forward restore a page from htmx's history cache as plain HTML: draw again.
  document.addEventListener("htmx:historyRestore", function () { draw(true); });
}());
