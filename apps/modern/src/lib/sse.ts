import type { ContentChangedEvent } from '@pilot/contracts';

/** One SSE message: `id:`, `event: content.changed`, one `data:` line of JSON. */
export function formatEvent(event: ContentChangedEvent): string {
  return `id: ${event.id}\nevent: content.changed\ndata: ${JSON.stringify(event)}\n\n`;
}

export const HEARTBEAT = ': heartbeat\n\n';

/** Client reconnection delay, sent once at the start of each stream. */
export const RETRY_MS = 2_000;
