// One console under test per test file: a real arrsd with fresh demo data
// (or the one ARRS_E2E_URL names, to develop against) and a headless
// browser on it, opened before the file's tests and closed after them.
import assert from "node:assert/strict";
import { after, before } from "node:test";

import { startArrsd, type Arrsd } from "./arrsd.js";
import { openBrowser, type Browser } from "./browser.js";

/**
 * consoleUnderTest registers the file's before and after hooks and returns
 * the browser they open. It can be held from the start, at module level;
 * its page is there once the tests run.
 */
export function consoleUnderTest(): Browser {
  let arrsd: Arrsd | undefined;
  let opened: Browser | undefined;
  before(async () => {
    const baseUrl = process.env["ARRS_E2E_URL"] ?? (arrsd = await startArrsd()).baseUrl;
    opened = await openBrowser(baseUrl);
  });
  after(async () => {
    await opened?.close();
    await arrsd?.stop();
  });
  const open = (): Browser => {
    assert.ok(opened, "the browser opens in the file's before hook, before its tests");
    return opened;
  };
  return {
    get page() {
      return open().page;
    },
    get errors() {
      return open().errors;
    },
    check: (name) => open().check(name),
    close: () => open().close(),
  };
}
