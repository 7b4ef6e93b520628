/**
 * A small namespace-aware XML tree over saxes (strict, no DTD, no entity expansion beyond the five
 * predefined ones), and the serialiser that keeps a dead property's value with its namespaces.
 */
import { SaxesParser } from 'saxes';
import { CloudError } from '../errors.ts';

export interface XmlElement {
  ns: string;
  local: string;
  attrs: { ns: string; local: string; value: string }[];
  children: (XmlElement | string)[];
}

const MAX_DEPTH = 64;
const MAX_ELEMENTS = 20_000;

export function parseXml(text: string): XmlElement {
  if (/<!DOCTYPE/i.test(text))
    throw new CloudError('BAD_REQUEST', 'XML with a DOCTYPE is not accepted');
  const parser = new SaxesParser({ xmlns: true, position: false });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let count = 0;
  let error: Error | undefined;
  parser.on('error', (e) => {
    error ??= e;
  });
  parser.on('opentag', (tag) => {
    if (++count > MAX_ELEMENTS || stack.length >= MAX_DEPTH) {
      error ??= new Error('XML too large or too deep');
      return;
    }
    const el: XmlElement = {
      ns: tag.uri ?? '',
      local: tag.local ?? tag.name,
      attrs: Object.values(tag.attributes)
        .filter((a) => a.prefix !== 'xmlns' && a.name !== 'xmlns')
        .map((a) => ({ ns: a.uri ?? '', local: a.local, value: a.value })),
      children: [],
    };
    if (stack.length > 0) stack[stack.length - 1].children.push(el);
    else root = el;
    stack.push(el);
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  const onText = (t: string): void => {
    if (stack.length > 0) stack[stack.length - 1].children.push(t);
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  try {
    parser.write(text).close();
  } catch (e) {
    error ??= e as Error;
  }
  if (error || !root)
    throw new CloudError(
      'BAD_REQUEST',
      `malformed XML body: ${error?.message.split('\n')[0] ?? 'no root element'}`,
    );
  return root;
}

export const elements = (el: XmlElement): XmlElement[] =>
  el.children.filter((c): c is XmlElement => typeof c !== 'string');
export const is = (el: XmlElement, local: string, ns = 'DAV:'): boolean =>
  el.ns === ns && el.local === local;
export const find = (el: XmlElement, local: string, ns = 'DAV:'): XmlElement | undefined =>
  elements(el).find((c) => is(c, local, ns));
export const textOf = (el: XmlElement): string =>
  el.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');

export const escapeXml = (s: string): string =>
  s
    .replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)
    .replace(/\r/g, '&#13;');

const XML_NS = 'http://www.w3.org/XML/1998/namespace';

/**
 * Serialises an element so it reads the same anywhere: every element declares its own default
 * namespace when it differs from its parent's, namespaced attributes get fresh prefixes.
 */
export function serialize(el: XmlElement, parentNs: string | null = null): string {
  let out = `<${el.local}`;
  if (el.ns !== parentNs) out += ` xmlns="${escapeXml(el.ns)}"`;
  let n = 0;
  for (const a of el.attrs) {
    if (a.ns === '') out += ` ${a.local}="${escapeXml(a.value)}"`;
    else if (a.ns === XML_NS) out += ` xml:${a.local}="${escapeXml(a.value)}"`;
    else {
      const p = `a${n++}`;
      out += ` xmlns:${p}="${escapeXml(a.ns)}" ${p}:${a.local}="${escapeXml(a.value)}"`;
    }
  }
  if (el.children.length === 0) return out + '/>';
  out += '>';
  for (const c of el.children) out += typeof c === 'string' ? escapeXml(c) : serialize(c, el.ns);
  return out + `</${el.local}>`;
}

/** An empty element of any namespace, for prop names in responses. */
export const emptyElement = (ns: string, local: string): string =>
  `<${local} xmlns="${escapeXml(ns)}"/>`;
