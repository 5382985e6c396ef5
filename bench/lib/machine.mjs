/** What the figures were measured on: cores, CPU model, memory, Node, the temp dir's file system, load. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function cpuModel() {
  try {
    const line = fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line !== undefined) return line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // Not Linux: fall back to what Node reports.
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

/** The file system type of the mount that holds `dir` (longest mount point prefix in /proc/mounts). */
export function fileSystemOf(dir) {
  try {
    const real = fs.realpathSync(dir);
    let best = { point: '', type: 'unknown', device: '' };
    for (const line of fs.readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [device, point, type] = line.split(' ');
      if (point === undefined || type === undefined) continue;
      const inside = real === point || real.startsWith(point.endsWith('/') ? point : `${point}/`);
      if (inside && point.length >= best.point.length) best = { point, type, device };
    }
    return `${best.type} (${best.device} on ${best.point})`;
  } catch {
    return 'unknown';
  }
}

/** One line per fact about the machine. */
export function describeMachine(dir) {
  return {
    cores: os.availableParallelism(),
    cpu: cpuModel(),
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    fileSystem: fileSystemOf(dir),
    tempDir: path.resolve(dir),
  };
}

/** The 1-minute load average, rounded. */
export function load() {
  return os.loadavg().map((value) => value.toFixed(2)).join(', ');
}
