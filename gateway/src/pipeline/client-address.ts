import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/**
 * The client's address as far as the gateway can know it. Without `settings.trustProxy` it is
 * the connection's peer: whatever X-Forwarded-For a client sends is its own say. With it (the
 * gateway sits behind one proxy that appends to X-Forwarded-For) it is the LAST entry: the
 * address that proxy saw. Entries before it were written by the client or by proxies nobody
 * vouched for, so they are never believed; an unreadable last entry falls back to the peer.
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const peer = req.socket.remoteAddress ?? '';
  if (!trustProxy) return peer;
  // Node joins repeated X-Forwarded-For headers with ", ": the last entry is still the proxy's
  const forwarded = req.headers['x-forwarded-for'];
  if (typeof forwarded !== 'string') return peer;
  const entry = lastEntry(forwarded);
  return entry ?? peer;
}

function lastEntry(header: string): string | null {
  let value = header.slice(header.lastIndexOf(',') + 1).trim();
  if (isIP(value) !== 0) return value;
  // some proxies add the port: 203.0.113.9:4711, [2001:db8::1]:4711
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    value = end > 0 ? value.slice(1, end) : '';
  } else {
    const colon = value.indexOf(':');
    if (colon > 0 && colon === value.lastIndexOf(':')) value = value.slice(0, colon);
  }
  return isIP(value) !== 0 ? value : null;
}
