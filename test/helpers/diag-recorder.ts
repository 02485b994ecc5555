import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';

export interface DiagRecord {
  readonly level: 'error' | 'warn' | 'info' | 'debug' | 'verbose';
  /** The component namespace (`otel-span-profiler/...`), or '' for a plain diag call. */
  readonly namespace: string;
  readonly message: string;
}

/**
 * Installs a global DiagLogger that keeps every call; `uninstall()` in afterEach. Component loggers
 * pass their namespace as the first argument, which is split off into `namespace`.
 */
export class DiagRecorder {
  readonly records: DiagRecord[] = [];

  install(): this {
    const log =
      (level: DiagRecord['level']) =>
      (...args: unknown[]): void => {
        const [first, ...rest] = args.map(String);
        const namespaced = first.startsWith('otel-span-profiler/') && rest.length > 0;
        this.records.push({
          level,
          namespace: namespaced ? first : '',
          message: (namespaced ? rest : [first, ...rest]).join(' '),
        });
      };
    const logger: DiagLogger = {
      error: log('error'),
      warn: log('warn'),
      info: log('info'),
      debug: log('debug'),
      verbose: log('verbose'),
    };
    diag.setLogger(logger, { logLevel: DiagLogLevel.ALL, suppressOverrideMessage: true });
    // The API logs its own registration; only what follows matters to a test.
    this.records.length = 0;
    return this;
  }

  uninstall(): void {
    diag.disable();
  }

  /** Messages at `level` (or at warn and error when omitted). */
  messages(level?: DiagRecord['level']): string[] {
    return this.records
      .filter((r) => (level === undefined ? r.level === 'warn' || r.level === 'error' : r.level === level))
      .map((r) => r.message);
  }
}
