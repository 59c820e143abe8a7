// Small formatting helpers shared by the console tables and the HTML report.
import type { RunResult } from './model.ts';

export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  return `${ms.toFixed(1)} ms`;
}

export function formatRatio(value: number | null | undefined): string {
  return value === null || value === undefined ? '-' : `${value.toFixed(2)}×`;
}

/** A number with at most `digits` decimals and thousands separators ("1,234.5"). */
export function formatNumber(value: number, digits: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function formatBytes(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return mb >= 1024 ? `${(mb / 1024).toFixed(2)} GB` : `${mb.toFixed(mb >= 100 ? 0 : 1)} MB`;
}

/** Names of the thresholds a run missed (p95, p99, errors). */
export function failedThresholds(run: RunResult): string[] {
  const out: string[] = [];
  if (!run.thresholds.p95.ok) out.push('p95');
  if (!run.thresholds.p99.ok) out.push('p99');
  if (!run.thresholds.errorRate.ok) out.push('errors');
  return out;
}
