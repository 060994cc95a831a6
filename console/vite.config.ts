import { resolve } from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Two pages: the console (index.html, served at /) and GraphiQL (graphiql.html,
// served for browser GETs of /graphql). Assets are served from /console-assets/
// (api/console.py) so they never collide with API routes.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    assetsDir: "console-assets",
    emptyOutDir: true,
    chunkSizeWarningLimit: 4000,
    rollupOptions: {
      // GraphiQL's React Compiler output starts modules with "use no memo", which
      // bundling drops harmlessly; the warning per module would bury real ones.
      onwarn(warning, warn) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
      input: {
        console: resolve(import.meta.dirname, "index.html"),
        graphiql: resolve(import.meta.dirname, "graphiql.html"),
      },
    },
  },
});
