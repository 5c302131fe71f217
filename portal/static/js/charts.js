// Draws the Plotly figures the server built (data-figure holds the figure's JSON), on page
// load and whenever htmx swaps in a fragment. No inline script: the page's CSP forbids it.
(function () {
  "use strict";

  function draw(all) {
    if (!window.Plotly) { return; }
    var selector = all ? "[data-figure]" : "[data-figure]:not([data-drawn])";
    Array.prototype.forEach.call(document.querySelectorAll(selector), function (node) {
      var figure = JSON.parse(node.getAttribute("data-figure"));
      node.innerHTML = "";
      window.Plotly.newPlot(node, figure.data, figure.layout, {responsive: true, displaylogo: false});
      node.setAttribute("data-drawn", "true");
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(false); });
  document.addEventListener("htmx:afterSettle", function () { draw(false); });
  // Back and forward restore a page from htmx's history cache as plain HTML: draw again.
  document.addEventListener("htmx:historyRestore", function () { draw(true); });
}());
