// @ts-check
/**
 * Reads OTLP JSON profile exports (one ExportProfilesServiceRequest per line, as written by
 * FileProfileExporter) and sums each profile's self CPU time per function: the function of the
 * innermost frame of each sample's stack, with the nearest application caller when that frame is a
 * builtin or Node internal (e.g. `stringify < buildInventoryReport`). A sample's values are its CPU
 * nanoseconds (sample_type cpu/nanoseconds), one per timestamp; its timestamps count the samples.
 */
'use strict';

const fs = require('node:fs');

/**
 * @typedef {{ stackIndex?: number, linkIndex?: number, attributeIndices?: number[], values?: (string|number)[], timestampsUnixNano?: string[] }} JsonSample
 * @typedef {{ samples?: JsonSample[], sampleType?: { typeStrindex?: number, unitStrindex?: number } }} JsonProfile
 * @typedef {{ stringTable?: string[], functionTable?: { nameStrindex?: number, filenameStrindex?: number }[], locationTable?: { lines?: { functionIndex?: number }[] }[], stackTable?: { locationIndices?: number[] }[], linkTable?: { traceId?: string, spanId?: string }[], attributeTable?: { keyStrindex?: number, value?: { stringValue?: string } }[] }} JsonDictionary
 * @typedef {{ dictionary?: JsonDictionary, resourceProfiles?: { scopeProfiles?: { profiles?: JsonProfile[] }[] }[] }} JsonRequest
 * @typedef {{ rootName: string, traceId: string, samples: number, cpuNanos: number, selfCpuByFunction: Map<string, number> }} ProfileSummary
 */

/**
 * @param {string} file
 * @returns {JsonRequest[]}
 */
function readProfileFile(file) {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}

/**
 * One summary per profile (most CPU first), and self CPU nanoseconds per function for each root span name.
 * @param {JsonRequest[]} requests
 * @returns {{ profiles: ProfileSummary[], byRoot: Map<string, Map<string, number>> }}
 */
function summarizeProfiles(requests) {
  /** @type {ProfileSummary[]} */
  const profiles = [];
  /** @type {Map<string, Map<string, number>>} */
  const byRoot = new Map();
  for (const request of requests) {
    const dict = request.dictionary ?? {};
    const strings = dict.stringTable ?? [];
    // proto3 JSON leaves out zero values, so a missing index is index 0.
    /** @param {number} locationIndex */
    const frameOf = (locationIndex) => {
      const fn = dict.functionTable?.[dict.locationTable?.[locationIndex]?.lines?.[0]?.functionIndex ?? 0];
      return { name: strings[fn?.nameStrindex ?? 0] || '(anonymous)', file: strings[fn?.filenameStrindex ?? 0] ?? '' };
    };
    // Self time lands in builtins and Node internals (String, JSON.stringify, ...) as often as in
    // the application; naming the nearest application frame tells which of its functions paid.
    /** @param {number | undefined} stackIndex */
    const leafFunction = (stackIndex) => {
      const frames = (dict.stackTable?.[stackIndex ?? 0]?.locationIndices ?? []).map(frameOf);
      if (frames.length === 0) return '(no stack)';
      const isApp = (/** @type {{ file: string }} */ f) =>
        f.file !== '' && !f.file.startsWith('node:') && !f.file.includes('/node_modules/');
      if (isApp(frames[0])) return frames[0].name;
      const caller = frames.find(isApp);
      return caller ? `${frames[0].name} < ${caller.name}` : frames[0].name;
    };
    /** @param {number[] | undefined} indices */
    const spanName = (indices) => {
      for (const index of indices ?? []) {
        const attribute = dict.attributeTable?.[index];
        if (strings[attribute?.keyStrindex ?? 0] === 'span_name') return attribute?.value?.stringValue ?? '';
      }
      return '';
    };
    for (const resource of request.resourceProfiles ?? []) {
      for (const scope of resource.scopeProfiles ?? []) {
        for (const profile of scope.profiles ?? []) {
          const type = profile.sampleType ?? {};
          if (strings[type.typeStrindex ?? 0] !== 'cpu' || strings[type.unitStrindex ?? 0] !== 'nanoseconds') {
            throw new Error(
              `a profile's sample_type is ${strings[type.typeStrindex ?? 0]}/${strings[type.unitStrindex ?? 0]}, expected cpu/nanoseconds`,
            );
          }
          /** @type {ProfileSummary} */
          const summary = { rootName: '(root span)', traceId: '', samples: 0, cpuNanos: 0, selfCpuByFunction: new Map() };
          for (const sample of profile.samples ?? []) {
            const cpuNanos = (sample.values ?? []).map(Number).reduce((sum, value) => sum + value, 0);
            const fn = leafFunction(sample.stackIndex);
            summary.selfCpuByFunction.set(fn, (summary.selfCpuByFunction.get(fn) ?? 0) + cpuNanos);
            summary.samples += sample.timestampsUnixNano?.length ?? sample.values?.length ?? 0;
            summary.cpuNanos += cpuNanos;
            summary.traceId ||= dict.linkTable?.[sample.linkIndex ?? 0]?.traceId ?? '';
            summary.rootName = spanName(sample.attributeIndices) || summary.rootName;
          }
          profiles.push(summary);
          const totals = byRoot.get(summary.rootName) ?? new Map();
          for (const [fn, cpuNanos] of summary.selfCpuByFunction) totals.set(fn, (totals.get(fn) ?? 0) + cpuNanos);
          byRoot.set(summary.rootName, totals);
        }
      }
    }
  }
  profiles.sort((a, b) => b.cpuNanos - a.cpuNanos);
  return { profiles, byRoot };
}

module.exports = { readProfileFile, summarizeProfiles };
