// Writes the index of a folder twice (reindex, then close) after loading it, stopping itself first
// so the parent can attach strace to the index writes alone. Prints what it saw as one JSON line:
// the ids listed, the warnings, and any unhandled rejection.
//   mode 'write': create a session, reindex, create another, close (A6: a crash at each step)
//   mode 'fail':  create a session, reindex, list, close, with every index write failing (C9)
import { openStore } from 'sessionlog';
import { listAll } from './list-all.mjs';

const [dir, mode = 'write'] = process.argv.slice(2);
const unhandled = [];
process.on('unhandledRejection', (err) => unhandled.push(String(err?.code ?? err)));
// A write past RLIMIT_FSIZE fails with EFBIG instead of killing the process.
process.on('SIGXFSZ', () => {});
const warnings = [];
const store = await openStore({ dir });
store.on('warning', (w) => warnings.push({ code: w.code, id: w.id, message: w.message }));
await store.list(); // loads and checks the index before the tracer attaches
console.log(`ready ${process.pid}`);
if (process.env.STOP_FOR_TRACER === '1') process.kill(process.pid, 'SIGSTOP');

const { id } = await store.create({ id: 'added-1', title: 'added' });
await store.append(id, { role: 'user', content: 'one' });
await store.reindex();
if (mode === 'write') await store.create({ id: 'added-2' });
const listed = (await listAll(store)).map((s) => s.id);
await store.close();
console.log(JSON.stringify({ listed, warnings, unhandled }));
