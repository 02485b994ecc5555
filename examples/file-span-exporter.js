// @ts-check
/**
 * A span exporter that appends each batch to a file as one OTLP JSON `ExportTraceServiceRequest`
 * per line: the traces half of the demo's no-collector default, so
 * `npx otel-span-profiler view out/` can draw the span waterfall next to the profiles.
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { ExportResultCode } = require('@opentelemetry/core');
const { JsonTraceSerializer } = require('@opentelemetry/otlp-transformer');

class FileSpanExporter {
  /** @param {string} filePath */
  constructor(filePath) {
    this.filePath = filePath;
    fs.mkdirSync(path.dirname(filePath), { recursive: true });
  }

  /**
   * @param {import('@opentelemetry/sdk-trace-base').ReadableSpan[]} spans
   * @param {(result: import('@opentelemetry/core').ExportResult) => void} done
   */
  export(spans, done) {
    try {
      const body = JsonTraceSerializer.serializeRequest(spans);
      if (body) fs.appendFileSync(this.filePath, Buffer.from(body).toString('utf8') + '\n');
      done({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      done({ code: ExportResultCode.FAILED, error: /** @type {Error} */ (error) });
    }
  }

  shutdown() {
    return Promise.resolve();
  }

  forceFlush() {
    return Promise.resolve();
  }
}

module.exports = { FileSpanExporter };
