// A refused From/To answers 400 with the form and its message (issue 21, item 10). htmx swaps
// only 2xx answers by default, so the message would never appear: for regions that show their
// own form errors (data-swap-errors) a 400 is swapped like a success. The status stays 400, so
// the answer is never taken for good figures by a cache, a log or a test.
(() => {
  "use strict";

  document.addEventListener("htmx:beforeSwap", (event) => {
    const detail = event.detail || {};
    const target = detail.target;
    if (detail.xhr && detail.xhr.status === 400 && target instanceof Element && target.closest("[data-swap-errors]")) {
      detail.shouldSwap = true;
      detail.isError = false;
    }
  });
})();
