import { openSync, readSync } from 'node:fs';

/** The first field of a schedstat file (on-CPU nanoseconds), -1 when it cannot be read. Once per sampler. */
export function readCpuNanos(fd: number): number {
  if (fd < 0) return -1;
  try {
    const buf = Buffer.alloc(64);
    const length = readSync(fd, buf, 0, buf.length, 0);
    const value = Number(buf.toString('latin1', 0, length).split(' ')[0]);
    return Number.isFinite(value) ? value : -1;
  } catch {
    return -1;
  }
}

/**
 * A /proc file of the main thread, whose thread id is the process id on Linux: `stat` (its
 * scheduler state, to skip ticks while it sleeps) and `schedstat` (its on-CPU nanoseconds).
 * -1 anywhere else, or where /proc is not readable.
 */
export function openMainThreadFile(name: 'stat' | 'schedstat'): number {
  if (process.platform !== 'linux') return -1;
  try {
    return openSync(`/proc/self/task/${process.pid}/${name}`, 'r');
  } catch {
    return -1;
  }
}
