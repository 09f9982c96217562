/** Debian's chromium, driven by playwright-core, as the browser tests launch it (as root in CI). */
import { chromium, type Browser } from 'playwright-core';
import { findOnPath } from './system-tools.js';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: findOnPath('chromium')!,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}
