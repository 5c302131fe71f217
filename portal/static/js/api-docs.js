// /api/v1/docs: starts Swagger UI (the swagger-ui-dist npm package, served from /vendor) on the
// OpenAPI document the page names in data-spec-url. A file of our own rather than an inline
// script, because the Content-Security-Policy runs no inline code.
(() => {
  "use strict";

  const root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") return;
  window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    // Swagger UI would otherwise send the document to validator.swagger.io and show its badge.
    validatorUrl: null,
  });
})();
