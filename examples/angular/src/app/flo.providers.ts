/**
 * The app's flo-rx client, the Angular way: one `FloClient` for the app, provided with
 * `provideFloClient(url)` (`makeEnvironmentProviders`), closed with its injector, and never opened
 * outside a browser (server-side rendering or prerendering gets `null`, so no WebSocket is opened on
 * the server).
 */
import { DestroyRef, InjectionToken, inject, makeEnvironmentProviders, PLATFORM_ID, type EnvironmentProviders } from '@angular/core';
import { isPlatformBrowser } from '@angular/common';
import { connect, type ConnectOptions, type FloClient } from 'flo-rx';

/** The app's `FloClient`; `null` where there is no browser (server rendering). */
export const FLO_CLIENT = new InjectionToken<FloClient | null>('flo-rx FloClient');

/** The URL the client connects to (shown while connecting). */
export const FLO_URL = new InjectionToken<string>('flo-rx server URL');

/**
 * Provides `FLO_CLIENT` (connected to `url` in the browser only, closed when the injector is
 * destroyed) and `FLO_URL`.
 */
export function provideFloClient(url: string, options: ConnectOptions = {}): EnvironmentProviders {
  return makeEnvironmentProviders([
    { provide: FLO_URL, useValue: url },
    {
      provide: FLO_CLIENT,
      useFactory: (): FloClient | null => {
        if (!isPlatformBrowser(inject(PLATFORM_ID))) return null;
        const flo = connect(url, options);
        inject(DestroyRef).onDestroy(() => void flo.close());
        return flo;
      },
    },
  ]);
}
