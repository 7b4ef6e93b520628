import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a browser module in plain JavaScript, without type declarations
import { renderMarkdown } from '../../cloud/pages/static/markdown.js';
import { hasSqlite, startCloud, type TestCloud } from './helpers.ts';

describe('chat replies as Markdown, escaped', () => {
  it('renders the usual Markdown', () => {
    expect(renderMarkdown('# Title\n\nsome **bold**, *em* and `x < y`\nnext line')).toBe(
      '<h1>Title</h1><p>some <strong>bold</strong>, <em>em</em> and <code>x &lt; y</code><br>next line</p>',
    );
    expect(renderMarkdown('- a\n- b\n\n1. one\n2. two')).toBe(
      '<ul><li>a</li><li>b</li></ul><ol><li>one</li><li>two</li></ol>',
    );
    expect(renderMarkdown('```js\nif (a < b) alert("x")\n```')).toBe(
      '<pre><code>if (a &lt; b) alert(&quot;x&quot;)</code></pre>',
    );
    expect(renderMarkdown('> quoted *text*')).toBe(
      '<blockquote><p>quoted <em>text</em></p></blockquote>',
    );
    expect(renderMarkdown('see [the docs](https://example.org/a?b=1&c=2)')).toBe(
      '<p>see <a href="https://example.org/a?b=1&amp;c=2" rel="noopener noreferrer nofollow" target="_blank">the docs</a></p>',
    );
  });

  it('never lets markup, scripts or handlers through', () => {
    const hostile = [
      '<script>alert(1)</script>',
      '<img src=x onerror=alert(1)>',
      '[x](javascript:alert(1))',
      '[x](JAVASCRIPT:alert(1))',
      '[x](https://e.org/"onmouseover="alert(1))',
      '[<img src=x onerror=alert(1)>](https://e.org)',
      '`</code><script>`',
      '**<b onclick=x>**',
      '<a href="javascript:x">y</a>',
      '```\n</code></pre><script>x</script>\n```',
      '![i](data:text/html,<script>)',
      '[x](data:text/html;base64,PHNjcmlwdD4=)',
      '<svg/onload=alert(1)>',
      '\u003cscript\u003e',
    ];
    for (const h of hostile) {
      const html: string = renderMarkdown(h);
      expect(html, h).not.toMatch(
        /<(?!\/?(p|br|strong|em|del|code|pre|ul|ol|li|blockquote|h[1-6]|a href="https:\/\/[^"]*" rel="noopener noreferrer nofollow" target="_blank"|\/a)>)/,
      );
      // Text may say anything once escaped; the only attribute is a link's href, and it is http(s).
      for (const m of html.matchAll(/href="([^"]*)"/g)) expect(m[1], h).toMatch(/^https?:\/\//);
    }
  });
});

describe.skipIf(!hasSqlite)('the chat page and the Run panel', () => {
  let c: TestCloud;
  beforeAll(async () => {
    c = await startCloud();
  });
  afterAll(() => c?.stop());

  it("are served with a CSP that allows only the node's own scripts", async () => {
    for (const [path, type] of [
      ['/chat', 'text/html'],
      ['/apps/run', 'text/html'],
      ['/pages/chat.js', 'text/javascript'],
      ['/pages/markdown.js', 'text/javascript'],
      ['/pages/pages.css', 'text/css'],
    ]) {
      const res = await fetch(`${c.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toContain(type);
      expect(res.headers.get('content-security-policy'), path).toBe(
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'",
      );
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
    expect(await (await fetch(`${c.url}/chat`)).text()).toContain(
      '<script type="module" src="/pages/chat.js"></script>',
    );
    expect((await fetch(`${c.url}/pages/../package.json`)).status).toBe(404);
    expect((await fetch(`${c.url}/pages/serve.ts`)).status).toBe(404);
    expect(
      (await fetch(`${c.url}/chat`, { method: 'POST', headers: { origin: c.url } })).status,
    ).toBe(405);
  });
});
