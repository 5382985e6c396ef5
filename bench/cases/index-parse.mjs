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
const start = performance.now();
const index = JSON.parse(fs.readFileSync(file, 'utf8'));
const ms = performance.now() - start;
const checkStart = performance.now();
let entries = 0;
for (const name of fs.readdirSync(dir)) {
  if (fs.lstatSync(`${dir}/${name}`, { throwIfNoEntry: false }) !== undefined) entries++;
}
const lstatMs = performance.now() - checkStart;
report({ ms, lstatMs, entries, bytes: fs.statSync(file).size, keys: Object.keys(index).length });
