// Progress for long, quiet steps (dependency installs, the admin panel build, a first Strapi
// boot): a line every so often while nothing else was printed, so a fresh machine never looks hung.

/** 95_000 → "1m 35s"; 4_200 → "4.2s"; 250 → "250ms". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}

export interface Heartbeat {
  /** Call on every line the step prints: the heartbeat only speaks during silence. */
  touch(): void;
  stop(): void;
  elapsedMs(): number;
}

/** Says `${label} (elapsed)` after every `everyMs` of silence until stopped. */
export function heartbeat(say: (text: string) => void, label: string, everyMs = 15_000): Heartbeat {
  const started = Date.now();
  let last = started;
  const timer = setInterval(
    () => {
      if (Date.now() - last < everyMs) return;
      last = Date.now();
      say(`${label} (${formatDuration(Date.now() - started)} so far)`);
    },
    Math.min(everyMs, 1000),
  );
  timer.unref();
  return {
    touch: () => {
      last = Date.now();
    },
    stop: () => clearInterval(timer),
    elapsedMs: () => Date.now() - started,
  };
}
