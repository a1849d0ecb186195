// One Swagger UI over the four services; each spec is fetched through the gateway and
// declares its gateway prefix in `servers`, so "Try it out" goes through the gateway too.
window.onload = function () {
  window.ui = SwaggerUIBundle({
    urls: [
      { url: "/api/openapi.json", name: "catalog" },
      { url: "/cart-api/openapi.json", name: "cart" },
      { url: "/order-api/openapi.json", name: "orders" },
      { url: "/user-api/openapi.json", name: "users" },
    ],
    "urls.primaryName": "catalog",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout",
  });
};
