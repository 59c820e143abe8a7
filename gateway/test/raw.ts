import net from 'node:net';

/** Writes bytes, returns everything answered until the gateway closes the connection. */
export function rawExchange(url: string, payload: string, timeoutMs = 10_000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let data = '';
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer and no close; got so far: ${JSON.stringify(data.slice(0, 200))}`));
    }, timeoutMs);
    socket.setEncoding('latin1');
    socket.on('data', (d) => {
      data += d;
      // one complete response is enough (keep-alive connections stay open)
      const head = data.indexOf('\r\n\r\n');
      const len = /\r\ncontent-length: *(\d+)/i.exec(data.slice(0, head))?.[1];
      if (head !== -1 && len !== undefined && data.length >= head + 4 + Number(len)) socket.end();
    });
    socket.on('close', () => {
      clearTimeout(guard);
      resolve(data);
    });
    socket.on('error', () => {});
    socket.write(payload);
  });
}
