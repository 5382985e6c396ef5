// The one conformance suite, run against every backend the project ships.
import { describeSessionStore } from '../../src/conformance/index.js';
import { openStore } from '../../src/index.js';
import { freshPgUrl, PG_URL } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';

describeSessionStore('file backend', () => openStore({ dir: tempDir() }), {
  reopen: (store) => openStore({ dir: store.location }),
  childOptions: (store) => ({ dir: store.location }),
});

const urls = new Map<string, string>();
if (PG_URL === '') {
  console.warn('PostgreSQL is not installed: the PostgreSQL conformance suite is SKIPPED.');
} else {
  describeSessionStore('PostgreSQL backend', async () => {
    const url = await freshPgUrl();
    const store = await openStore({ url });
    urls.set(store.location, url);
    return store;
  }, {
    reopen: (store) => openStore({ url: urls.get(store.location) as string }),
    childOptions: (store) => ({ url: urls.get(store.location) as string }),
  });
}
