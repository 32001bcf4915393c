import { defineConfig, devices } from '@playwright/test';

// cargo-leptos starts the server and runs this at once, without waiting:
// global-setup waits until the server answers.
export default defineConfig({
  testDir: './tests',
  globalSetup: './global-setup.ts',
  // A safety net against hangs, not a measure: on a loaded 2-core machine a
  // debug build's pages take up to 10 s each to hydrate, and the longest
  // tests open four of them.
  timeout: 120_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  // In CI, a test that fails is run once more and, if it passes then,
  // reported as flaky (the list says so, with the first attempt's trace);
  // a test that fails twice fails the run. On this 2-core machine each
  // clean-clone run met a different timing flake; each one found is still
  // chased (a real race was among them: pwa.spec's forgotten pages).
  retries: process.env.CI ? 1 : 0,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    baseURL: process.env.SALON_URL ?? 'http://127.0.0.1:3000',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    locale: 'en-US',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: {
          executablePath: '/usr/bin/chromium',
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--no-first-run',
          ],
        },
      },
    },
  ],
});
