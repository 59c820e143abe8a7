import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, portAnswers } from '../lib/ports.ts';
import { DEFAULT_PORTS, resolvePorts, startStack } from '../stack/start.ts';

describe('resolvePorts', () => {
  it('takes each port from the options, else the environment, else the embedded default', async () => {
    const ports = await resolvePorts({ gateway: 18_080 }, { GATEWAY_PORT: '28080', CMS_PORT: '11337' });
    expect(ports).toEqual({ ...DEFAULT_PORTS, gateway: 18_080, cms: 11_337 });
  });

  it('refuses a port variable that is not a port, naming it', async () => {
    await expect(resolvePorts(undefined, { LEGACY_PORT: 'abc' })).rejects.toThrow(
      'LEGACY_PORT=abc is not a port number',
    );
    await expect(resolvePorts(undefined, { MODERN_PORT: '70000' })).rejects.toThrow('MODERN_PORT=70000');
  });

  it("'free' gives six distinct ports nothing listens on", async () => {
    const ports = Object.values(await resolvePorts('free', {}));
    expect(new Set(ports).size).toBe(6);
    for (const port of ports) expect(await portAnswers(port)).toBe(false);
  });
});

describe('startStack', () => {
  let busy: Server;
  let busyPort: number;
  beforeAll(async () => {
    busy = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    busyPort = (busy.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

  it('refuses a port that is already in use before starting anything, and names the variable to change', async () => {
    const lines: string[] = [];
    const ports = {
      upstreams: await freePort(),
      cms: await freePort(),
      legacy: await freePort(),
      modern: await freePort(),
      gateway: busyPort,
      gatewayAdmin: await freePort(),
    };
    await expect(startStack({ ports, log: (line) => lines.push(line), buildAdmin: false })).rejects.toThrow(
      `port ${busyPort} (gateway) is already in use: stop what listens there, or start the stack on another port (GATEWAY_PORT=<port>)`,
    );
    expect(lines).toEqual([]);
    expect(await portAnswers(ports.upstreams)).toBe(false);
  });
});
