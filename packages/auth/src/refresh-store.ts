/**
 * Where refresh tokens live. A token is `<familyId>.<secret>`; the store keeps only a SHA-256
 * of the whole token (a leaked store does not leak usable tokens), the user it belongs to,
 * whether it was already rotated, and the state of its family.
 */
export type RotateResult =
  | { status: 'ok'; userId: string }
  | { status: 'invalid' }
  /** The family was revoked earlier (e.g. by a reuse); this token is dead too. */
  | { status: 'revoked'; userId: string }
  /** This token was already rotated: the family has now been revoked. */
  | { status: 'reused'; userId: string };

/** What a refresh would find, without changing anything (`inspect`). */
export type InspectResult =
  | { status: 'ok'; userId: string }
  | { status: 'invalid' }
  | { status: 'revoked'; userId: string }
  /** Already rotated, at `usedAt` (ms since the epoch; 0 when unknown). */
  | { status: 'used'; userId: string; usedAt: number };

export interface RefreshStore {
  /** Starts a family (a login) with its first token. */
  issue(familyId: string, tokenHash: string, userId: string, ttlSeconds: number): Promise<void>;
  /**
   * Atomically: if `oldHash` is the live token of an active family, marks it used and stores
   * `newHash` as the family's next token. A used token revokes the family.
   */
  rotate(familyId: string, oldHash: string, newHash: string, ttlSeconds: number): Promise<RotateResult>;
  /** Reads what `rotate` would decide for `tokenHash`, writing nothing (a dry run). */
  inspect(familyId: string, tokenHash: string): Promise<InspectResult>;
  close(): Promise<void>;
}

interface MemoryToken {
  userId: string;
  familyId: string;
  used: boolean;
  /** When it was rotated (ms), 0 while unused. */
  usedAt: number;
  expiresAt: number;
}

interface MemoryFamily {
  revoked: boolean;
  expiresAt: number;
}

/**
 * In-process store with TTLs (expired entries are dropped lazily and by a sweep every few
 * hundred writes). Single-threaded JavaScript makes `rotate` atomic. For one instance only:
 * with several instances, configure Redis.
 */
export function createMemoryRefreshStore(options: { now?: () => number } = {}): RefreshStore {
  const now = options.now ?? Date.now;
  const tokens = new Map<string, MemoryToken>();
  const families = new Map<string, MemoryFamily>();
  let writes = 0;

  function sweep(): void {
    const t = now();
    for (const [key, token] of tokens) if (token.expiresAt <= t) tokens.delete(key);
    for (const [key, family] of families) if (family.expiresAt <= t) families.delete(key);
  }
  function wrote(): void {
    writes += 1;
    if (writes % 500 === 0) sweep();
  }
  function liveToken(hash: string): MemoryToken | undefined {
    const token = tokens.get(hash);
    if (token && token.expiresAt <= now()) {
      tokens.delete(hash);
      return undefined;
    }
    return token;
  }
  function liveFamily(id: string): MemoryFamily | undefined {
    const family = families.get(id);
    if (family && family.expiresAt <= now()) {
      families.delete(id);
      return undefined;
    }
    return family;
  }

  return {
    async issue(familyId, tokenHash, userId, ttlSeconds) {
      const expiresAt = now() + ttlSeconds * 1000;
      families.set(familyId, { revoked: false, expiresAt });
      tokens.set(tokenHash, { userId, familyId, used: false, usedAt: 0, expiresAt });
      wrote();
    },
    async rotate(familyId, oldHash, newHash, ttlSeconds) {
      const token = liveToken(oldHash);
      if (!token || token.familyId !== familyId) return { status: 'invalid' };
      const family = liveFamily(familyId);
      if (!family) return { status: 'invalid' };
      if (family.revoked) return { status: 'revoked', userId: token.userId };
      if (token.used) {
        family.revoked = true;
        return { status: 'reused', userId: token.userId };
      }
      token.used = true;
      token.usedAt = now();
      const expiresAt = now() + ttlSeconds * 1000;
      family.expiresAt = expiresAt;
      tokens.set(newHash, { userId: token.userId, familyId, used: false, usedAt: 0, expiresAt });
      wrote();
      return { status: 'ok', userId: token.userId };
    },
    async inspect(familyId, tokenHash) {
      const token = liveToken(tokenHash);
      if (!token || token.familyId !== familyId) return { status: 'invalid' };
      const family = liveFamily(familyId);
      if (!family) return { status: 'invalid' };
      if (family.revoked) return { status: 'revoked', userId: token.userId };
      if (token.used) return { status: 'used', userId: token.userId, usedAt: token.usedAt };
      return { status: 'ok', userId: token.userId };
    },
    async close() {
      tokens.clear();
      families.clear();
    },
  };
}
