import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * A port for a child process to listen on, free when this returns.
 *
 * Not one the kernel hands out (listening on port 0, then closing): those come from the
 * ephemeral range, which every outgoing connection of every test running beside us draws its
 * local port from — between our close and the child's listen one of them may take it (CI saw
 * EADDRINUSE that way). Ports below the ephemeral range are only ever taken by someone who asks
 * for that number, so a random one that binds now stays free for the child.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [low] = ephemeralRange();
  const from = Math.min(20_000, low - 2_000);
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = from + Math.floor(Math.random() * (low - from));
    if (await bindable(port, host)) return port;
  }
  throw new Error(`no free port between ${from} and ${low} after 50 tries`);
}

/** The kernel's ephemeral port range (Linux), or IANA's default elsewhere. */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low! > 3_000) return [low!, high!];
  } catch {
    // not Linux: fall through
  }
  return [49_152, 65_535];
}

function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
