import { describe, expect, it } from 'vitest';
import { formatStamp } from './format';

describe('formatStamp', () => {
  const now = new Date(2026, 11, 6, 14, 30); // a Sunday
  const at = (days: number, h: number, m: number) => new Date(2026, 11, 6 - days, h, m).toISOString();
  it('says the time alone today, without a leading zero on the hour', () => {
    expect(formatStamp(at(0, 9, 5), now)).toMatch(/^9[:.]05/);
  });
  it('says yesterday, then the weekday within a week, then the date', () => {
    expect(formatStamp(at(1, 9, 15), now)).toMatch(/^yesterday 9[:.]15/);
    expect(formatStamp(at(3, 14, 2), now)).toMatch(/^Thursday (14|2)[:.]02/);
    expect(formatStamp(at(10, 14, 2), now)).toMatch(/26 Nov|Nov 26/);
  });
});
