import { test as base, expect, type BrowserContext } from '@playwright/test';
import { explainsAPanic } from './helpers';

/**
 * Playwright's `test`, failing any test in which a page throws: a panic in
 * the wasm stops the whole app (every later call ends in "unreachable"),
 * yet a test whose next steps need nothing more from the page would pass.
 * Every context the test opens is watched, its own and the browser's.
 */
export const test = base.extend<{ failOnPageErrors: void }>({
  failOnPageErrors: [
    async ({ browser, context }, use) => {
      const errors: string[] = [];
      // A panic throws "unreachable"; what and where is in the console.
      const watch = (watched: BrowserContext) => {
        watched.on('weberror', (error) => errors.push(`${error.page()?.url()}: ${error.error().message}`));
        watched.on('console', (message) => {
          if (explainsAPanic(message)) errors.push(`${message.page()?.url()}: ${message.text()}`);
        });
      };
      watch(context);
      const newContext = browser.newContext.bind(browser);
      browser.newContext = async (options) => {
        const opened = await newContext(options);
        watch(opened);
        return opened;
      };
      await use();
      browser.newContext = newContext;
      expect(errors, 'errors thrown in pages').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
