import { describe, expect, it } from 'vitest';
import { linkify } from './links';

const links = (t: string) => linkify(t).filter((s) => s.href).map((s) => [s.text, s.href]);

describe('linkify', () => {
  it('links http(s) URLs and e-mail addresses, and gives the text back whole', () => {
    const t = 'See https://example.org/a?b=1#c and http://x.test, or mail bob.smith+chat@mail.example.com.';
    expect(links(t)).toEqual([
      ['https://example.org/a?b=1#c', 'https://example.org/a?b=1#c'],
      ['http://x.test', 'http://x.test/'],
      ['bob.smith+chat@mail.example.com', 'mailto:bob.smith+chat@mail.example.com'],
    ]);
    expect(linkify(t).map((s) => s.text).join('')).toBe(t);
  });

  it('leaves trailing punctuation and unopened brackets out of a link', () => {
    expect(links('(see https://en.wikipedia.org/wiki/Foo_(bar)).')).toEqual([['https://en.wikipedia.org/wiki/Foo_(bar)', 'https://en.wikipedia.org/wiki/Foo_(bar)']]);
    expect(links('go to https://a.test/x!')).toEqual([['https://a.test/x', 'https://a.test/x']]);
  });

  it('never makes a link of another scheme', () => {
    for (const t of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)//http://x.test', 'data:text/html,<b>x</b>', 'ftp://files.test/x', 'vbscript:msgbox', 'mailto:x@y.test']) {
      for (const s of linkify(t)) if (s.href) expect(s.href).toMatch(/^(https?:\/\/|mailto:[^:]+$)/);
    }
    expect(links('javascript:alert(1)')).toEqual([]);
    // The http URL inside is linked as itself, never with the javascript: in front.
    expect(links('javascript:alert(1)//http://x.test')).toEqual([['http://x.test', 'http://x.test/']]);
  });

  it('does not take part of a URL for an address', () => {
    expect(links('https://user@host.example.com/path')).toEqual([['https://user@host.example.com/path', 'https://user@host.example.com/path']]);
  });

  it('leaves text without links as one run', () => {
    expect(linkify('just words, no links: a@b or http:// alone')).toEqual([{ text: 'just words, no links: a@b or http:// alone' }]);
    expect(linkify('')).toEqual([]);
  });
});
