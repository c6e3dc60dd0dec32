// Starts the self-hosted Swagger UI (no CDN, no inline script: the CSP stays strict).
const root = document.getElementById("swagger-ui");
window.SwaggerUIBundle({
  url: root.dataset.openapiUrl,
  domNode: root,
  persistAuthorization: true,
  presets: [window.SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
