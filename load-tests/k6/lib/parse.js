// Duration parsing and formatting in k6's vocabulary ("250ms", "3s", "1m30s"), shared by every
// k6 lib file and the Node runner. Plain ES module, no imports.

/**
 * Parses a k6-style duration ("250ms", "3s", "1m30s", "1h") into milliseconds.
 * A bare number is taken as seconds, as k6 does.
 * @param {string | number} text
 * @returns {number}
 */
export function parseDuration(text) {
  if (typeof text === 'number') return text * 1000;
  const trimmed = String(text).trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  /** @type {Record<string, number>} */
  const unit = { ms: 1, s: 1000, m: 60000, h: 3600000 };
  let total = 0;
  let consumed = 0;
  let match = re.exec(trimmed);
  while (match !== null) {
    if (match.index !== consumed) break;
    total += Number(match[1]) * /** @type {number} */ (unit[/** @type {string} */ (match[2])]);
    consumed = match.index + match[0].length;
    match = re.exec(trimmed);
  }
  if (consumed === 0 || consumed !== trimmed.length) {
    throw new Error('invalid duration "' + text + '" (expected e.g. "500ms", "3s", "1m30s")');
  }
  return total;
}

/**
 * Formats milliseconds as a k6 duration string ("1500ms" → "1.5s").
 * @param {number} ms
 * @returns {string}
 */
export function formatDuration(ms) {
  if (ms % 1000 === 0) return ms / 1000 + 's';
  return Math.round(ms) + 'ms';
}
