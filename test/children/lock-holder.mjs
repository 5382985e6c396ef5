// Takes a session's repair lock and holds it until killed or stopped (for the lock takeover rows).
import { withRewriteLock } from '../../dist/file/fs/lock.js';

const [file] = process.argv.slice(2);
await withRewriteLock(file, async () => {
  console.log('locked');
  setInterval(() => {}, 1000); // hold until killed: the lock's refresh timer does not keep the process alive
  await new Promise(() => {});
});
