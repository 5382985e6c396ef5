/**
 * The listing floors, in a fresh process (as each phase of bench/listing.mjs is): reading and
 * parsing the store's index file, and the check a listing must make before it believes that file
 * — one readdir of the folder and one lstat per entry (docs/listing.md). The second is reported
 * beside the ratio, not used as the floor. Usage: node bench/cases/index-parse.mjs '{"dir":...}'
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { args, report } from '../lib/child.mjs';

const { dir } = args();
const file = path.join(dir, '.sessionlog-index.json');

function once() {
  const start = performance.now();
  const index = JSON.parse(fs.readFileSync(file, 'utf8'));
  const ms = performance.now() - start;
  const checkStart = performance.now();
  let entries = 0;
  for (const name of fs.readdirSync(dir)) {
    if (fs.lstatSync(`${dir}/${name}`, { throwIfNoEntry: false }) !== undefined) entries++;
  }
  return { ms, lstatMs: performance.now() - checkStart, entries, keys: Object.keys(index).length };
}

// A fresh process (as the store's figure is), then the same again in the now warm process.
const fresh = once();
const warm = once();
report({ ...fresh, warmMs: warm.ms, warmLstatMs: warm.lstatMs, bytes: fs.statSync(file).size });
