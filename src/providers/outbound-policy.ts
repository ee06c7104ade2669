import { IPv4, IPv6, isValid, parse, parseCIDR } from 'ipaddr.js';

// Where the service may send a customer's key. Azure endpoints are customer-supplied, so a hostile
// customer could aim a connection test at our own network (cloud metadata, databases, admin ports).
// Every outbound connection whose host is not allowlisted must land on a public unicast address over
// https:443; the address check runs on the address actually connected to (see outbound-client.ts).

/** Thrown (or passed to a connect callback) when the policy refuses a destination. Carries no host. */
export class OutboundPolicyError extends Error {
  readonly code = 'E_OUTBOUND_POLICY';
  constructor(reason: string) {
    super(`Outbound connection refused by policy: ${reason}`);
    this.name = 'OutboundPolicyError';
  }
}

export function isOutboundPolicyError(err: unknown): err is OutboundPolicyError {
  return (
    err instanceof OutboundPolicyError || (err as { code?: unknown } | null)?.code === 'E_OUTBOUND_POLICY'
  );
}

// 2000::/3 is the only IPv6 space IANA allocates for global unicast; ipaddr.js calls everything it has
// no special range for 'unicast', including odd corners such as IPv4-compatible ::a.b.c.d.
const GLOBAL_UNICAST_V6 = parseCIDR('2000::/3');
const NAT64_WELL_KNOWN = parseCIDR('64:ff9b::/96');
const SIX_TO_FOUR = parseCIDR('2002::/16');

/**
 * True only for a public unicast address. Forms that embed an IPv4 address (IPv4-mapped, the NAT64
 * well-known prefix, 6to4) are judged by the address they embed: a public one stays reachable from
 * IPv6-only hosts behind DNS64, a private one is the classic filter bypass.
 */
export function isPublicAddress(address: string): boolean {
  if (!isValid(address)) return false;
  const ip = parse(address);
  if (ip instanceof IPv4) return ip.range() === 'unicast';

  const embedded = embeddedIPv4(ip);
  if (embedded) return embedded.range() === 'unicast';
  return ip.range() === 'unicast' && ip.match(GLOBAL_UNICAST_V6);
}

function embeddedIPv4(v6: IPv6): IPv4 | undefined {
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address();
  const bytes = v6.toByteArray();
  if (v6.match(NAT64_WELL_KNOWN)) return new IPv4(bytes.slice(12, 16));
  if (v6.match(SIX_TO_FOUR)) return new IPv4(bytes.slice(2, 6));
  return undefined;
}

/**
 * Whether host:port is in OUTBOUND_ALLOWLIST. Entries are "host" (any port) or "host:port"; IPv6
 * literals may be bracketed ("[::1]:8080"). Comparison ignores case.
 */
export function isAllowlisted(allowlist: readonly string[], host: string, port: number): boolean {
  const wantedHost = stripBrackets(host.toLowerCase());
  return allowlist.some((raw) => {
    const entry = parseEntry(raw);
    return (
      entry !== undefined && entry.host === wantedHost && (entry.port === undefined || entry.port === port)
    );
  });
}

function parseEntry(raw: string): { host: string; port?: number } | undefined {
  const entry = raw.trim().toLowerCase();
  if (!entry) return undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1], port: bracketed[2] ? Number(bracketed[2]) : undefined };
  const colons = entry.split(':').length - 1;
  if (colons === 1) {
    const [host, port] = entry.split(':');
    return /^\d+$/.test(port) ? { host, port: Number(port) } : undefined;
  }
  return { host: entry }; // a plain name, an IPv4 address or a bare IPv6 address
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
