import { defineConfig } from "vitest/config";

// Browser tests: `npm run test:browser`, headless Chromium (Debian's `chromium`, or $CHROMIUM_PATH)
// driven by puppeteer-core. Kept out of `npm test`: they need the browser installed.
export default defineConfig({
  test: {
    include: ["test/browser/**/*.browser.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    fileParallelism: false,
  },
});
