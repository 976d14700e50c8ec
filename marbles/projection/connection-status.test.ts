/** Marble tests of `connectionStatus()`: badge words, the last error, reconnect counts. */
import { describe, it } from 'vitest';
import { map } from 'rxjs';
import type { ConnectionState } from '../../src/connection/types.js';
import { connectionStatus } from '../../src/projection/index.js';
import { newScheduler } from '../helpers.js';

describe('connectionStatus()', () => {
  it('maps states to badge words and remembers the last error and the reconnects', () => {
    const s = newScheduler();
    s.run(({ hot, cold, expectObservable }) => {
      const states = hot<ConnectionState>('i-c-C---r--C-x', { i: 'idle', c: 'connecting', C: 'connected', r: 'reconnecting', x: 'closed' });
      const errors = cold('------e', { e: new Error('append failed') });
      const status$ = connectionStatus({ state$: states }, { errors, scheduler: s }).pipe(
        map((st) => `${st.state}|${st.label}|${st.online}|${st.lastError}|${st.reconnects}|${st.since}`),
      );
      expectObservable(status$).toBe('i-c-C-e-r--D-x', {
        i: 'idle|Not connected|false|null|0|0',
        c: 'connecting|Connecting…|false|null|0|2',
        C: 'connected|Connected|true|null|0|4',
        e: 'connected|Connected|true|append failed|0|4',
        r: 'reconnecting|Reconnecting…|false|connection lost|0|8',
        D: 'connected|Connected|true|connection lost|1|11',
        x: 'closed|Closed|false|connection lost|1|13',
      });
    });
  });
});
