/*
 * The dictionary rules of OTLP profiles (the ProfilesDictionary comments of profiles.proto, the checks profcheck runs)
 * applied to a request decoded by decode-buf.ts. Returns every violation as text, so a test
 * failure lists them all.
 */
import type { Decoded, DecodedValue } from './decode-buf';

const TABLES = ['mappingTable', 'locationTable', 'functionTable', 'linkTable', 'stringTable', 'attributeTable', 'stackTable'] as const;

function list(value: DecodedValue | undefined): Decoded[] {
  return (value ?? []) as Decoded[];
}

function ints(value: DecodedValue | undefined): number[] {
  return (value ?? []) as number[];
}

/** Violations of the dictionary rules in a decoded ExportProfilesServiceRequest; empty when valid. */
export function dictionaryViolations(request: Decoded): string[] {
  const problems: string[] = [];
  const dict = (request.dictionary ?? {}) as Decoded;
  const table = (name: (typeof TABLES)[number]) => (dict[name] ?? []) as DecodedValue[];

  for (const name of TABLES) {
    const entries = table(name);
    if (entries.length === 0) {
      problems.push(`${name} is empty: index 0 must hold the zero value`);
      continue;
    }
    const zero = entries[0];
    const isZero = name === 'stringTable' ? zero === '' : Object.keys(zero as Decoded).length === 0;
    if (!isZero) problems.push(`${name}[0] is ${JSON.stringify(zero)}, not the zero value`);
    const seen = new Map<string, number>();
    entries.forEach((entry, i) => {
      const key = JSON.stringify(entry);
      const previous = seen.get(key);
      if (previous !== undefined) problems.push(`${name}[${i}] duplicates ${name}[${previous}]: ${key}`);
      else seen.set(key, i);
    });
  }

  const inRange = (what: string, index: number, name: (typeof TABLES)[number]) => {
    if (!Number.isInteger(index) || index < 0 || index >= table(name).length) {
      problems.push(`${what} = ${index} is out of range of ${name} (${table(name).length})`);
    }
  };
  const attributeList = (what: string, indices: number[]) => {
    const keys = new Set<number>();
    for (const i of indices) {
      inRange(`${what} attribute index`, i, 'attributeTable');
      const key = (table('attributeTable')[i] as Decoded | undefined)?.keyStrindex as number | undefined;
      if (key !== undefined && keys.has(key)) problems.push(`${what}: attribute key ${key} appears twice`);
      if (key !== undefined) keys.add(key);
    }
  };

  list(table('attributeTable') as DecodedValue).forEach((a, i) => {
    if (i > 0 && !a.keyStrindex) problems.push(`attributeTable[${i}] has no key`);
    inRange(`attributeTable[${i}].keyStrindex`, (a.keyStrindex as number) ?? 0, 'stringTable');
    inRange(`attributeTable[${i}].unitStrindex`, (a.unitStrindex as number) ?? 0, 'stringTable');
  });
  list(table('functionTable') as DecodedValue).forEach((f, i) => {
    for (const field of ['nameStrindex', 'systemNameStrindex', 'filenameStrindex']) {
      inRange(`functionTable[${i}].${field}`, (f[field] as number) ?? 0, 'stringTable');
    }
    if (i > 0 && !f.nameStrindex && !f.systemNameStrindex && !f.filenameStrindex) {
      problems.push(`functionTable[${i}] has no name, system name or file name`);
    }
  });
  list(table('locationTable') as DecodedValue).forEach((l, i) => {
    inRange(`locationTable[${i}].mappingIndex`, (l.mappingIndex as number) ?? 0, 'mappingTable');
    for (const line of list(l.lines)) {
      inRange(`locationTable[${i}] line function`, (line.functionIndex as number) ?? 0, 'functionTable');
      if (BigInt((line.line as string) ?? '0') < 0n || BigInt((line.column as string) ?? '0') < 0n) {
        problems.push(`locationTable[${i}] has a negative line or column`);
      }
    }
    attributeList(`locationTable[${i}]`, ints(l.attributeIndices));
  });
  list(table('stackTable') as DecodedValue).forEach((s, i) => {
    for (const index of ints(s.locationIndices)) inRange(`stackTable[${i}] location`, index, 'locationTable');
  });
  list(table('linkTable') as DecodedValue).forEach((l, i) => {
    if (i === 0) return;
    if (((l.traceId as string) ?? '').length !== 32) problems.push(`linkTable[${i}].traceId is not 16 bytes`);
    if (((l.spanId as string) ?? '').length !== 16) problems.push(`linkTable[${i}].spanId is not 8 bytes`);
  });

  list(request.resourceProfiles).forEach((rp, r) => {
    list(rp.scopeProfiles).forEach((sp, s) => {
      list(sp.profiles).forEach((p, pi) => {
        const where = `profile ${r}/${s}/${pi}`;
        const start = BigInt((p.timeUnixNano as string) ?? '0');
        const end = start + BigInt((p.durationNano as string) ?? '0');
        attributeList(where, ints(p.attributeIndices));
        for (const vt of ['sampleType', 'periodType']) {
          const v = (p[vt] ?? {}) as Decoded;
          inRange(`${where} ${vt}.typeStrindex`, (v.typeStrindex as number) ?? 0, 'stringTable');
          inRange(`${where} ${vt}.unitStrindex`, (v.unitStrindex as number) ?? 0, 'stringTable');
        }
        const identities = new Set<string>();
        list(p.samples).forEach((sample, si) => {
          const at = `${where} sample ${si}`;
          inRange(`${at} stackIndex`, (sample.stackIndex as number) ?? 0, 'stackTable');
          inRange(`${at} linkIndex`, (sample.linkIndex as number) ?? 0, 'linkTable');
          attributeList(at, ints(sample.attributeIndices));
          const timestamps = (sample.timestampsUnixNano ?? []) as string[];
          const values = (sample.values ?? []) as unknown[];
          // The two shapes this library emits: timestamps only (counts), or, where CPU time is
          // measured, one timestamp with its CPU nanoseconds (Pyroscope takes one value per Sample).
          if (timestamps.length === 0 || (values.length !== 0 && (values.length !== 1 || timestamps.length !== 1))) {
            problems.push(`${at} is neither timestamps-only nor one timestamp with one value`);
          }
          for (const t of timestamps) {
            if (BigInt(t) < start || BigInt(t) >= end) problems.push(`${at} timestamp ${t} outside [${start}, ${end})`);
          }
          if (values.length > 0) return;
          const identity = JSON.stringify([sample.stackIndex, sample.linkIndex, [...ints(sample.attributeIndices)].sort()]);
          if (identities.has(identity)) problems.push(`${at} has the identity of an earlier sample: not merged`);
          identities.add(identity);
        });
      });
    });
  });
  problems.push(...orphans(request));
  return problems;
}

/** Table entries (past index 0) that nothing in the request points to (profcheck -check-orphans). */
function orphans(request: Decoded): string[] {
  const dict = (request.dictionary ?? {}) as Decoded;
  const used: Record<string, Set<number>> = {};
  for (const name of TABLES) used[name] = new Set([0]);
  const use = (name: (typeof TABLES)[number], index: unknown) => used[name].add((index as number | undefined) ?? 0);
  const useAttributes = (indices: DecodedValue | undefined) => ints(indices).forEach((i) => use('attributeTable', i));
  for (const a of list(dict.attributeTable)) {
    use('stringTable', a.keyStrindex);
    use('stringTable', a.unitStrindex);
  }
  for (const f of list(dict.functionTable)) {
    for (const field of ['nameStrindex', 'systemNameStrindex', 'filenameStrindex']) use('stringTable', f[field]);
  }
  for (const m of list(dict.mappingTable)) {
    use('stringTable', m.filenameStrindex);
    useAttributes(m.attributeIndices);
  }
  for (const l of list(dict.locationTable)) {
    use('mappingTable', l.mappingIndex);
    for (const line of list(l.lines)) use('functionTable', line.functionIndex);
    useAttributes(l.attributeIndices);
  }
  for (const s of list(dict.stackTable)) ints(s.locationIndices).forEach((i) => use('locationTable', i));
  for (const rp of list(request.resourceProfiles)) {
    for (const sp of list(rp.scopeProfiles)) {
      for (const p of list(sp.profiles)) {
        for (const vt of [p.sampleType, p.periodType] as Array<Decoded | undefined>) {
          use('stringTable', vt?.typeStrindex);
          use('stringTable', vt?.unitStrindex);
        }
        useAttributes(p.attributeIndices);
        for (const s of list(p.samples)) {
          use('stackTable', s.stackIndex);
          use('linkTable', s.linkIndex);
          useAttributes(s.attributeIndices);
        }
      }
    }
  }
  const problems: string[] = [];
  for (const name of TABLES) {
    const size = ((dict[name] ?? []) as DecodedValue[]).length;
    for (let i = 1; i < size; i++) if (!used[name].has(i)) problems.push(`${name}[${i}] is an orphan: nothing refers to it`);
  }
  return problems;
}
