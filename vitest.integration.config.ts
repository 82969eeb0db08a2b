import { defineConfig } from "vitest/config";

// AWS adapters against moto_server (started and stopped by test/integration/global-setup.ts).
export default defineConfig({
  test: {
    include: ["test/integration/**/*.test.ts"],
    globalSetup: ["test/integration/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    fileParallelism: false,
  },
});
