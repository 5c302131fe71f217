// A refused argument answers 422 with the form and its message beside it (issue 21, item 10;
// issue 19, item 1: 422 is the one status of a refused argument). htmx swaps only 2xx answers by
// default, so the message would never appear: for regions that show their own form errors
// (data-swap-errors) a 422 is swapped like a success. The status stays 422, so the answer is
// never taken for good figures by a cache, a log or a test.
(() => {
  "use strict";

  document.addEventListener("htmx:beforeSwap", (event) => {
    const detail = event.detail || {};
    const target = detail.target;
    if (detail.xhr && detail.xhr.status === 422 && target instanceof Element && target.closest("[data-swap-errors]")) {
      detail.shouldSwap = true;
      detail.isError = false;
    }
  });
})();
