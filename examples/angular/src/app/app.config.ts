import { provideBrowserGlobalErrorListeners, provideZonelessChangeDetection, type ApplicationConfig } from '@angular/core';
import { provideFloClient } from './flo.providers';

/** `?flo=ws://host:port` picks the server; default: port 9000 of the page's host. */
function floUrl(): string {
  const fromQuery = typeof location === 'undefined' ? null : new URLSearchParams(location.search).get('flo');
  return fromQuery ?? `ws://${typeof location === 'undefined' ? '127.0.0.1' : location.hostname}:9000`;
}

/** The app's providers: zoneless change detection, global error listeners, the flo-rx client. */
export const appConfig: ApplicationConfig = {
  providers: [
    provideZonelessChangeDetection(),
    provideBrowserGlobalErrorListeners(),
    // Short backoff: the page should come back quickly once the server is there again.
    provideFloClient(floUrl(), { timeoutMs: 5000, reconnect: { minTimeoutMs: 100, maxTimeoutMs: 1000 } }),
  ],
};
