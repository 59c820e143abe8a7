import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';

/**
 * Calls `reload` when the table file changes (the directory is watched, so editors that save
 * by rename are seen too) and, when `signal` is set, on SIGHUP. Changes are debounced.
 */
export interface TableWatcher {
  close(): void;
}

export function watchTable(
  file: string,
  reload: (reason: string) => void,
  options: { debounceMs?: number; signal?: boolean } = {},
): TableWatcher {
  const debounceMs = options.debounceMs ?? 75;
  const name = basename(file);
  let timer: NodeJS.Timeout | null = null;
  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
      if (changed !== null && changed !== name) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        reload('file');
      }, debounceMs);
    });
    watcher.on('error', () => {});
  } catch {
    watcher = null;
  }
  const onHup = () => reload('SIGHUP');
  if (options.signal) process.on('SIGHUP', onHup);
  return {
    close() {
      if (timer) clearTimeout(timer);
      watcher?.close();
      if (options.signal) process.off('SIGHUP', onHup);
    },
  };
}
