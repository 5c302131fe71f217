// The header on every page (issue 14, items 8–9): marks the current page in the navigation
// (aria-current, so it is announced and styled) and, on a narrow screen, folds the links into
// a "Menu" button. Without this script the links simply wrap, which still never scrolls sideways.
(() => {
  "use strict";

  const header = document.querySelector(".topbar");
  if (!header) return;
  const nav = header.querySelector("nav");

  // The current page's link is the most specific one that matches (issue 21, item 14): the
  // link to this very page, then a link that names this page as one of its own (data-nav-also,
  // e.g. "My videos" for /videos/12/edit), then the link whose path is the longest prefix of
  // this page's. So "Videos" is not marked on "My videos" pages that live under /videos/.
  const here = window.location.pathname;
  const specificity = (link, path) => {
    if (here === path) return 3;
    if (link.dataset.navAlso && new RegExp(link.dataset.navAlso).test(here)) return 2;
    if (path !== "/" && here.startsWith(`${path.replace(/\/$/, "")}/`)) return 1;
    return 0;
  };
  let best = null;
  for (const link of nav.querySelectorAll("a[href]")) {
    const path = new URL(link.href, window.location.href).pathname;
    const rank = specificity(link, path);
    if (rank > 0 && (!best || rank > best.rank || (rank === best.rank && path.length > best.path.length))) {
      best = { link, path, rank };
    }
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
