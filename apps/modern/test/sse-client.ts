/** A minimal SSE reader over fetch's body stream, for tests: yields parsed messages as they arrive. */
export interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
  retry?: string;
}

export interface SseStream {
  status: number;
  headers: Headers;
  /** Resolves with the next message that satisfies `match` (comments included). */
  next(match?: (m: SseMessage) => boolean): Promise<SseMessage>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const controller = new AbortController();
  const res = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const queue: SseMessage[] = [];

  function parse(block: string): SseMessage {
    const message: SseMessage = {};
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) message.comment = line.slice(1).trim();
      else {
        const i = line.indexOf(':');
        const field = line.slice(0, i) as keyof SseMessage;
        const value = line.slice(i + 1).replace(/^ /, '');
        message[field] = message[field] === undefined ? value : `${message[field]}\n${value}`;
      }
    }
    return message;
  }

  return {
    status: res.status,
    headers: res.headers,
    async next(match = () => true) {
      for (;;) {
        const index = queue.findIndex(match);
        if (index >= 0) return queue.splice(0, index + 1).pop() as SseMessage;
        queue.length = 0;
        const { value, done } = await reader.read();
        if (done) throw new Error('SSE stream ended');
        buffer += decoder.decode(value, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          queue.push(parse(buffer.slice(0, end)));
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
        }
      }
    },
    close() {
      controller.abort();
    },
  };
}
