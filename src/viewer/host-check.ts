/*
 * DNS rebinding protection. A web page from evil.example can make its own name resolve to
 * 127.0.0.1 and then read the viewer as if it were same-origin; the only trace it leaves is its name
 * in the Host header. So the viewer answers only requests addressed to a loopback name, an IP address
 * (an attacker's page cannot have an IP literal as its origin and still be the attacker's) or the name
 * it was told to bind. Vite's dev server settled on the same rule (CVE-2025-24010).
 */
import { isIP } from 'node:net';

/** Decides whether a Host (or Origin) names this server. */
export class HostCheck {
  private readonly _boundName: string | undefined;

  /** `boundHost`: the interface the server binds (`--host`); a name there is allowed too. */
  constructor(boundHost: string) {
    const name = boundHost.trim().toLowerCase();
    this._boundName = name !== '' && isIP(name) === 0 ? name : undefined;
  }

  /** True when a Host header value (`name[:port]`, `[v6][:port]`) names this server. */
  allowsHost(hostHeader: string | undefined): boolean {
    if (hostHeader === undefined) return false;
    const name = hostName(hostHeader);
    if (name === undefined) return false;
    if (isIP(name) !== 0) return true;
    if (name === 'localhost' || name.endsWith('.localhost')) return true;
    return name === this._boundName;
  }

  /** True when an Origin header is absent or names this server (its scheme must be http:). */
  allowsOrigin(origin: string | undefined): boolean {
    if (origin === undefined) return true;
    try {
      const url = new URL(origin);
      return url.protocol === 'http:' && this.allowsHost(url.host);
    } catch {
      return false;
    }
  }
}

/** The host name of a Host header, lowercase, without brackets or port; undefined when malformed. */
function hostName(header: string): string | undefined {
  const value = header.trim().toLowerCase();
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0) return undefined;
    const rest = value.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined;
    return value.slice(1, end);
  }
  const match = /^([^:]+)(?::\d{1,5})?$/.exec(value);
  // A trailing dot names the same host ("localhost." is localhost).
  return match === null ? undefined : match[1].replace(/\.$/, '');
}
