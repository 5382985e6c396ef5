// Appends entries below every flush threshold, then ends in the way argv[4] names, to prove the
// exit hooks write the buffer. Prints "ready" once the entries are buffered.
import { openStore } from 'sessionlog';

const [dir, id, mode, umask, libraries] = process.argv.slice(2);
if (libraries === 'signal-exit') {
  // Libraries that install signal-exit's listeners: proper-lockfile (v3, at load) and
  // write-file-atomic (v4, on its first write). The store must still flush and the process still
  // die of the signal.
  await import('proper-lockfile');
  await (await import('write-file-atomic')).default(`${dir}/.probe`, 'x');
}
if (umask !== undefined) process.umask(Number.parseInt(umask, 8));
const store = await openStore({ dir, flush: { maxEntries: 1000, maxBytes: 1 << 30, intervalMs: 3_600_000 } });
if (mode === 'create') await store.create({ id });
await store.append(id, [
  { role: 'user', content: `${mode} one` },
  { role: 'assistant', content: `${mode} two` },
  { role: 'user', content: `${mode} three` },
]);
if (mode === 'own-handler') {
  // The application handles SIGTERM itself: the store flushes but must not kill the process.
  process.on('SIGTERM', () => {
    console.log('handled');
    setTimeout(() => process.exit(7), 10);
  });
}
console.log('ready');
switch (mode) {
  case 'natural':
  case 'create':
    break; // the event loop empties; the unref'd timer does not hold it
  case 'exit':
    process.exit(3);
    break;
  case 'throw':
    throw new Error('boom');
  case 'abort':
    // flush() acknowledged the three entries; the fourth is only buffered when the process aborts.
    await store.flush(id);
    await store.append(id, { role: 'user', content: 'abort four' });
    process.abort();
    break;
  default:
    setInterval(() => {}, 1000); // wait for a signal
}
