// Upload forms with a progress bar (issue 14, item 5): a large file takes minutes to send and
// a plain form submit shows nothing meanwhile. The form is sent by XMLHttpRequest (fetch has
// no upload progress); the answer replaces the page as a normal submit would. Without this
// script the form still works, without the bar.
(() => {
  "use strict";

  function enhance(root) {
    for (const form of root.querySelectorAll("form[data-upload]")) {
      const status = form.querySelector(".upload-status");
      const bar = form.querySelector(".upload-progress");
      const percent = form.querySelector(".upload-percent");
      const button = form.querySelector("button[type=submit]");

      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const request = new XMLHttpRequest();
        request.open("POST", form.action);
        request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
        request.upload.addEventListener("progress", (progress) => {
          if (!progress.lengthComputable) return;
          const done = Math.floor((progress.loaded * 100) / progress.total);
          bar.value = done;
          percent.textContent = done < 100 ? `${done} % sent` : "Sent; checking the video…";
        });
        request.addEventListener("load", () => {
          // Success answers {"redirect": url}; a form with errors comes back as a page.
          if ((request.getResponseHeader("Content-Type") || "").startsWith("application/json")) {
            window.location.assign(JSON.parse(request.responseText).redirect);
            return;
          }
          const page = new DOMParser().parseFromString(request.responseText, "text/html");
          const main = page.querySelector("main");
          document.querySelector("main").replaceWith(main);
          document.title = page.title;
          enhance(main);
        });
        request.addEventListener("error", () => {
          status.hidden = false;
          percent.textContent = "The upload failed (network). Check the connection and try again.";
          button.disabled = false;
        });
        status.hidden = false;
        button.disabled = true;
        percent.textContent = "0 % sent";
        request.send(new FormData(form));
      });
    }
  }

  enhance(document);
})();
