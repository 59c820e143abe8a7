import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { addressKey, rateLimitHeader, rateLimitPolicyHeader, secondsLeft } from '../src/index.ts';

describe('RateLimit fields', () => {
  const policies = [
    { name: 'login-burst', quota: 10, windowSeconds: 60 },
    { name: 'login-address', quota: 60, windowSeconds: 900 },
  ];

  it('lists every policy with its quota and window, in order', () => {
    expect(rateLimitPolicyHeader(policies)).toBe('"login-burst";q=10;w=60, "login-address";q=60;w=900');
  });

  it('says what is left and when each window ends; a spent policy says 0, never less', () => {
    expect(
      rateLimitHeader(policies, [
        { consumed: 12, msLeft: 41_001 },
        { consumed: 3, msLeft: 800_000 },
      ]),
    ).toBe('"login-burst";r=0;t=42, "login-address";r=57;t=800');
    // no window running: the whole quota, reset 0
    expect(rateLimitHeader(policies, [])).toBe('"login-burst";r=10;t=0, "login-address";r=60;t=0');
  });

  it('escapes names into structured-field strings', () => {
    expect(rateLimitPolicyHeader([{ name: 'a"b\\c\u00e9\n', quota: 1, windowSeconds: 1 }])).toBe(
      '"a\\"b\\\\c";q=1;w=1',
    );
  });

  it('rounds a running window up to a whole second', () => {
    expect(secondsLeft(1)).toBe(1);
    expect(secondsLeft(1000)).toBe(1);
    expect(secondsLeft(1001)).toBe(2);
    expect(secondsLeft(0)).toBe(0);
    expect(secondsLeft(-5)).toBe(0);
  });
});

describe('addressKey', () => {
  it('keys IPv4 as itself, IPv4-mapped IPv6 as IPv4, IPv6 by its /64', () => {
    expect(addressKey('203.0.113.9')).toBe('203.0.113.9');
    expect(addressKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(addressKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2::9')).toBe(addressKey('2001:db8:1:2:ffff::1'));
    expect(addressKey('not an address')).toBe('not an address');
  });

  it('the unparsed fast path gives the key a full parse gives, for any IPv4 address and spelling (fast-check)', () => {
    const full = (a: string) => {
      const p = ipaddr.process(a);
      return p.kind() === 'ipv4' ? p.toString() : a;
    };
    fc.assert(
      fc.property(fc.ipV4(), (a) => {
        expect(addressKey(a)).toBe(full(a));
        expect(addressKey(`::ffff:${a}`)).toBe(full(a));
      }),
    );
    fc.assert(
      fc.property(fc.ipV4Extended(), (a) => {
        // octal, hex and short forms name an address too: the same key as its dotted quad
        expect(addressKey(a)).toBe(ipaddr.isValid(a) ? full(a) : a);
      }),
    );
    fc.assert(
      fc.property(fc.ipV6(), (a) => {
        const key = addressKey(a);
        const p = ipaddr.process(a);
        if (p.kind() === 'ipv4') expect(key).toBe(p.toString());
        else expect(key).toMatch(/^[0-9a-f]{1,4}(:[0-9a-f]{1,4}){3}::\/64$/);
      }),
    );
  });
});
