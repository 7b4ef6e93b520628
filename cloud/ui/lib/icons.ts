/** The page's line icons (24×24, drawn with the current text colour), built as SVG nodes. */
const PATHS = {
  cloud: ['M7 18a5 5 0 1 1 .9-9.92A6 6 0 0 1 19 10a4 4 0 0 1-1 8z'],
  folder: ['M3 7a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z'],
  folderPlus: [
    'M3 7a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z',
    'M12 10v6M9 13h6',
  ],
  file: ['M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z', 'M14 3v5h5'],
  text: [
    'M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z',
    'M14 3v5h5',
    'M9 13h6M9 17h4',
  ],
  code: [
    'M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z',
    'M14 3v5h5',
    'M10 12l-2 2.5 2 2.5M14 12l2 2.5-2 2.5',
  ],
  archive: [
    'M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z',
    'M14 3v5h5',
    'M11 4v2M11 8v2M11 12v2',
    'M10 16h2v3h-2z',
  ],
  image: [
    'M5 4h14a1 1 0 0 1 1 1v14a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1z',
    'M4 16l5-5 4 4 3-3 4 4',
    'M16.5 8.5a1.5 1.5 0 1 1-3 0a1.5 1.5 0 1 1 3 0',
  ],
  audio: [
    'M9 18V5l11-2v13',
    'M9 18a3 3 0 1 1-6 0a3 3 0 1 1 6 0',
    'M20 16a3 3 0 1 1-6 0a3 3 0 1 1 6 0',
  ],
  video: [
    'M4 6h11a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1z',
    'M16 10.5l5-3v9l-5-3',
  ],
  pdf: [
    'M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z',
    'M14 3v5h5',
    'M8.5 17v-4h1.5a1.2 1.2 0 0 1 0 2.4H8.5M13 13v4h1a2 2 0 0 0 0-4z',
  ],
  upload: ['M12 15V4', 'M7 9l5-5 5 5', 'M4 15v4a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-4'],
  download: ['M12 4v11', 'M7 10l5 5 5-5', 'M4 15v4a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-4'],
  grid: ['M4 4h7v7H4zM13 4h7v7h-7zM4 13h7v7H4zM13 13h7v7h-7z'],
  list: ['M9 6h11M9 12h11M9 18h11', 'M4.5 6h.01M4.5 12h.01M4.5 18h.01'],
  trash: [
    'M4 7h16',
    'M10 11v6M14 11v6',
    'M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12',
    'M9 7V4h6v3',
  ],
  link: [
    'M10 14a4 4 0 0 0 5.66 0l3-3a4 4 0 0 0-5.66-5.66l-1 1',
    'M14 10a4 4 0 0 0-5.66 0l-3 3a4 4 0 0 0 5.66 5.66l1-1',
  ],
  more: ['M5 12h.01M12 12h.01M19 12h.01'],
  settings: [
    'M4 6h9m4 0h3M4 12h3m4 0h9M4 18h11m4 0h1',
    'M17 6a2 2 0 1 1-4 0a2 2 0 1 1 4 0',
    'M11 12a2 2 0 1 1-4 0a2 2 0 1 1 4 0',
    'M19 18a2 2 0 1 1-4 0a2 2 0 1 1 4 0',
  ],
  signOut: ['M9 20H6a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2h3', 'M16 17l5-5-5-5', 'M21 12H9'],
  close: ['M6 6l12 12M18 6L6 18'],
  restore: ['M4 4v6h6', 'M5.1 15a8 8 0 1 0 1.8-8.3L4 10'],
  history: ['M12 3a9 9 0 1 1 0 18a9 9 0 1 1 0-18z', 'M12 7v5l3 2'],
  pencil: ['M4 20h4L19 9l-4-4L4 16z', 'M13.5 6.5l4 4'],
  move: [
    'M3 7a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z',
    'M9 13h6M13 10.5l2.5 2.5-2.5 2.5',
  ],
  eye: ['M2 12s4-7 10-7 10 7 10 7-4 7-10 7S2 12 2 12z', 'M15 12a3 3 0 1 1-6 0a3 3 0 1 1 6 0'],
  key: ['M12 12a4 4 0 1 1-5.66-.01A4 4 0 0 1 12 12z', 'M12 12l8-8M17 7l2.5 2.5M15 9l1.5 1.5'],
  users: [
    'M13 8a4 4 0 1 1-8 0a4 4 0 1 1 8 0',
    'M2 21v-1a6 6 0 0 1 6-6h2a6 6 0 0 1 6 6v1',
    'M16 4.13a4 4 0 0 1 0 7.75',
    'M22 21v-1a6 6 0 0 0-4-5.65',
  ],
  menu: ['M4 6h16M4 12h16M4 18h16'],
  copy: [
    'M9 9h10a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H9a1 1 0 0 1-1-1V10a1 1 0 0 1 1-1z',
    'M5 15H4a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1h10a1 1 0 0 1 1 1v1',
  ],
  wallet: [
    'M19 7V5a1 1 0 0 0-1-1H5a2 2 0 0 0 0 4h15a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H5a2 2 0 0 1-2-2V6',
    'M17 14h.01',
  ],
  check: ['M5 12l5 5L20 7'],
  play: ['M7 4l13 8-13 8z'],
  chevron: ['M9 6l6 6-6 6'],
  left: ['M15 6l-6 6 6 6'],
  alert: [
    'M12 9v4M12 17h.01',
    'M10.3 4.2L2.6 18a2 2 0 0 0 1.7 3h15.4a2 2 0 0 0 1.7-3L13.7 4.2a2 2 0 0 0-3.4 0z',
  ],
  lock: ['M6 11h12v10H6z', 'M8 11V7a4 4 0 0 1 8 0v4'],
  share: [
    'M21 5a3 3 0 1 1-6 0a3 3 0 1 1 6 0',
    'M9 12a3 3 0 1 1-6 0a3 3 0 1 1 6 0',
    'M21 19a3 3 0 1 1-6 0a3 3 0 1 1 6 0',
    'M8.6 13.5l6.8 4M15.4 6.5l-6.8 4',
  ],
  chat: ['M4 5h16v11H9l-5 4z'],
} as const;

export type IconName = keyof typeof PATHS;

const NS = 'http://www.w3.org/2000/svg';

export function icon(name: IconName, cls = 'icon'): SVGSVGElement {
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', cls);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  for (const d of PATHS[name]) {
    const p = document.createElementNS(NS, 'path');
    p.setAttribute('d', d);
    svg.appendChild(p);
  }
  return svg;
}
