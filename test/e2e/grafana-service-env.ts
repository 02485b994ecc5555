import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../helpers/collector';

/**
 * The variables of `examples/grafana/<file>` (a service's environment for the Grafana recipe),
 * each value with the hosts in `hosts` (`'http://collector:4318'` -> a loopback URL) replaced, as
 * the end-to-end tests run the example service with it: named `serviceName`, spans batched every
 * 200 ms, only SDK errors logged.
 */
export function grafanaServiceEnv(file: string, hosts: Readonly<Record<string, string>>, serviceName: string): Record<string, string> {
  const text = fs.readFileSync(path.join(repoRoot(), 'examples', 'grafana', file), 'utf8');
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) env[match[1]] = Object.entries(hosts).reduce((value, [from, to]) => value.replace(from, to), match[2]);
  }
  return { ...env, OTEL_SERVICE_NAME: serviceName, OTEL_BSP_SCHEDULE_DELAY: '200', OTEL_LOG_LEVEL: 'error' };
}
