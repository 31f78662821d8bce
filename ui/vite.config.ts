import { fileURLToPath } from "node:url";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig } from "vite";

// Run from the repo root: `vite build --config ui/vite.config.ts`. The controller serves dist/ui/.
const root = fileURLToPath(new URL(".", import.meta.url));

// `vite --config ui/vite.config.ts` (dev server) proxies the API, WebSocket included, to a running controller.
const controller = process.env.PORTCULLIS_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  root,
  base: "./",
  plugins: [svelte({ configFile: false, compilerOptions: { runes: true } })],
  build: {
    outDir: "../dist/ui",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
  },
  server: {
    proxy: {
      "/api": { target: controller, ws: true, changeOrigin: true },
    },
  },
});
