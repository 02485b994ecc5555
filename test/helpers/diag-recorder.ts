import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';

/** Records every diag message (as `level: text`) between install() and uninstall(). */
export class DiagRecorder {
  readonly messages: string[] = [];

  install(level = DiagLogLevel.DEBUG): this {
    const record =
      (name: string) =>
      (message: string, ...args: unknown[]): void => {
        this.messages.push(`${name}: ${[message, ...args.map((a) => (a instanceof Error ? a.message : String(a)))].join(' ')}`);
      };
    const logger: DiagLogger = {
      error: record('error'),
      warn: record('warn'),
      info: record('info'),
      debug: record('debug'),
      verbose: record('verbose'),
    };
    diag.setLogger(logger, { logLevel: level, suppressOverrideMessage: true });
    return this;
  }

  uninstall(): void {
    diag.disable();
  }

  /** Messages at `level` whose text includes `part`. */
  find(level: string, part: string): string[] {
    return this.messages.filter((m) => m.startsWith(`${level}: `) && m.includes(part));
  }
}
