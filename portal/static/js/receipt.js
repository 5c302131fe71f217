// A settlement receipt opens as a modal dialog over the table, in view and focused (issue 21,
// item 3): it used to be swapped in ~1,700 px below the line and the page did not move. The
// dialog is rendered with data-open when it has a receipt: by htmx (the "Receipt" link, which
// pushes the receipt's URL) or by the server when that URL is opened directly. Closing it
// (Close, Escape) goes back to the table's URL: back in history when htmx pushed the receipt's
// URL here, otherwise by replacing the address with the table's (data-close-url).
(() => {
  "use strict";

  let pushedHere = false;

  const open = () => {
    const dialog = document.getElementById("receipt");
    if (!(dialog instanceof HTMLDialogElement) || !dialog.hasAttribute("data-open")) return;
    if (dialog.open && !dialog.matches(":modal")) dialog.close(); // restored from htmx's history
    if (!dialog.open) dialog.showModal();
    dialog.scrollTop = 0;
    dialog.focus();
    dialog.addEventListener("close", () => {
      if (!dialog.isConnected) return; // taken away by a history restore: nothing to undo
      dialog.removeAttribute("data-open");
      if (pushedHere) {
        pushedHere = false;
        history.back();
      } else if (dialog.dataset.closeUrl) {
        history.replaceState(history.state, "", dialog.dataset.closeUrl);
      }
    }, { once: true });
  };

  document.addEventListener("htmx:afterSettle", (event) => {
    const target = event.detail && event.detail.target;
    if (target instanceof Element && target.id === "receipt") {
      pushedHere = true;
      open();
    }
  });
  document.addEventListener("htmx:historyRestore", () => {
    pushedHere = false;
    open();
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", open);
  } else {
    open();
  }
})();
