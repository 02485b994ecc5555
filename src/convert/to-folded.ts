/* Folded stacks (`outer;...;leaf value` per line), for flamegraph.pl, speedscope and the viewer's API. */
import { functionLabel, type FlatSample, type Frame } from './profile-samples';

/** What a folded line's value counts. */
export type FoldedValue = 'cpu-nanos' | 'samples';

/**
 * One line per distinct stack of functions, sorted, values summed: CPU nanoseconds (measured, or
 * samples x period) by default, or sample counts. Frames are `name (file)`; `;` in names becomes `:`.
 */
export function toFolded(frames: readonly Frame[], samples: readonly FlatSample[], value: FoldedValue = 'cpu-nanos'): string {
  const labels = frames.map((frame) =>
    functionLabel(frame)
      .replace(/;/g, ':')
      .replace(/[\r\n]/g, ' '),
  );
  const totals = new Map<string, number>();
  for (const sample of samples) {
    const key = sample.stack.map((id) => labels[id]).join(';');
    totals.set(key, (totals.get(key) ?? 0) + (value === 'samples' ? sample.count : sample.cpuNanos));
  }
  const lines: string[] = [];
  for (const key of [...totals.keys()].sort()) {
    const total = Math.round(totals.get(key)!);
    if (total > 0) lines.push(`${key} ${total}`);
  }
  return lines.length > 0 ? lines.join('\n') + '\n' : '';
}
