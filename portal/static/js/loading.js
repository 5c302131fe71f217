// Every htmx switch shows that it is working (issue 21, item 8): the region being replaced is
// marked aria-busy (announced by screen readers, dimmed with a spinner by app.css) from the
// request until its answer is swapped in or fails. Regions that poll by themselves
// (data-polling) are left alone, so a running batch does not blink every 2 s.
(() => {
  "use strict";

  const regionOf = (event) => {
    const target = event.detail && event.detail.target;
    return target instanceof Element && !target.hasAttribute("data-polling") ? target : null;
  };
  document.addEventListener("htmx:beforeRequest", (event) => {
    const region = regionOf(event);
    if (!region) return;
    region.setAttribute("aria-busy", "true");
  });
  // After the swap the region may be a new element (outerHTML); the old one is gone with its mark.
  document.addEventListener("htmx:afterRequest", (event) => {
    const region = regionOf(event);
    if (region) region.removeAttribute("aria-busy");
  });
})();
