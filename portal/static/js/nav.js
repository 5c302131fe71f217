// The header on every page (issue 14, items 8–9): marks the current page in the navigation
// (aria-current, so it is announced and styled) and, on a narrow screen, folds the links into
// a "Menu" button. Without this script the links simply wrap, which still never scrolls sideways.
(() => {
  "use strict";

  const header = document.querySelector(".topbar");
  if (!header) return;
  const nav = header.querySelector("nav");

  // The link whose path is the longest prefix of this page's path is the current page.
  let best = null;
  for (const link of nav.querySelectorAll("a[href]")) {
    const path = new URL(link.href, window.location.href).pathname;
    const here = window.location.pathname;
    const matches = path === "/" ? here === "/" : here === path || here.startsWith(`${path.replace(/\/$/, "")}/`);
    if (matches && (!best || path.length > best.path.length)) best = { link, path };
  }
  if (best) best.link.setAttribute("aria-current", "page");

  const button = header.querySelector(".menu-toggle");
  if (!button) return;
  header.classList.add("collapsible");
  button.hidden = false;
  const setOpen = (open) => {
    header.classList.toggle("open", open);
    button.setAttribute("aria-expanded", String(open));
  };
  setOpen(false);
  button.addEventListener("click", () => setOpen(!header.classList.contains("open")));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && header.classList.contains("open")) {
      setOpen(false);
      button.focus();
    }
  });
})();
