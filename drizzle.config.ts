import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./firmware/store/schema.ts",
  out: "./firmware/store/migrations",
});
