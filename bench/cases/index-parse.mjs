/**
 * The listing floor: read and parse the store's index file, in a fresh process (as each phase
 * of bench/listing.mjs is). Usage: node bench/cases/index-parse.mjs '{"dir":...}'
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
report({ ms, bytes: fs.statSync(file).size, keys: Object.keys(index).length });
