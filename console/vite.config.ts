import { defineConfig } from "vite";

// Served under /console/ by the local stack and, in AWS, by CloudFront from S3.
export default defineConfig({
  base: "/console/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    target: "es2022",
    modulePreload: { polyfill: false }, // the polyfill would be an inline script
  },
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
});
