/**
 * Real media files for the file manager's previews, made here so the tests need no fixtures on
 * disk: a PNG, a PDF, a WAV tone and a WebM video (VP8 encoded by the browser's own WebCodecs,
 * put in a WebM container with cues so a player can seek by Range requests).
 */
import { crc32, deflateSync } from 'node:zlib';
import type { Page } from 'playwright-core';

/** A real PNG (RGB, a colour gradient) of the given size. */
export function png(width: number, height: number): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      raw[row + 1 + x * 3] = Math.round((x / width) * 90 + 60);
      raw[row + 2 + x * 3] = Math.round((y / height) * 120 + 80);
      raw[row + 3 + x * 3] = 220;
    }
  }
  const chunk = (type: string, data: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A real one-page PDF showing `text`, with a correct cross-reference table. */
export function pdf(text: string): Buffer {
  const stream = `BT /F1 28 Tf 72 700 Td (${text.replace(/[()\\]/g, '\\$&')}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** A real WAV file (PCM, 16-bit mono, 22.05 kHz) of a quiet tone lasting `seconds`. */
export function wav(seconds: number): Buffer {
  const rate = 22_050;
  const samples = Math.round(rate * seconds);
  const out = Buffer.alloc(44 + samples * 2);
  out.write('RIFF', 0, 'latin1');
  out.writeUInt32LE(36 + samples * 2, 4);
  out.write('WAVEfmt ', 8, 'latin1');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20); // PCM
  out.writeUInt16LE(1, 22); // mono
  out.writeUInt32LE(rate, 24);
  out.writeUInt32LE(rate * 2, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36, 'latin1');
  out.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++)
    out.writeInt16LE(Math.round(Math.sin((i / rate) * 2 * Math.PI * 440) * 2000), 44 + i * 2);
  return out;
}

export interface VideoFrameChunk {
  key: boolean;
  /** Microseconds from the start. */
  timestamp: number;
  data: Buffer;
}

/**
 * `seconds` of noise (which compresses badly, so the file is large enough that a seek has to ask
 * for a later range) at 10 frames a second, a key frame every second, encoded to VP8 by the page's
 * WebCodecs. The page must be of a secure context (http://127.0.0.1 is).
 */
export async function encodeVp8(
  page: Page,
  seconds: number,
  width: number,
  height: number,
): Promise<VideoFrameChunk[]> {
  // A string, not a function, so no transform of this file can add helpers the page lacks.
  const chunks = (await page.evaluate(`(async () => {
    const out = [];
    const encoder = new VideoEncoder({
      output: (c) => {
        const bytes = new Uint8Array(c.byteLength);
        c.copyTo(bytes);
        // Base64, since a byte array would cross to the test as a JSON list of numbers (slow).
        let binary = '';
        for (let i = 0; i < bytes.length; i += 8192)
          binary += String.fromCharCode(...bytes.subarray(i, i + 8192));
        out.push({ key: c.type === 'key', timestamp: c.timestamp, data: btoa(binary) });
      },
      error: (e) => { throw e; },
    });
    encoder.configure({ codec: 'vp8', width: ${width}, height: ${height}, bitrate: 2000000, framerate: 10 });
    const canvas = new OffscreenCanvas(${width}, ${height});
    const g = canvas.getContext('2d');
    const image = g.createImageData(${width}, ${height});
    for (let i = 0; i < ${seconds * 10}; i++) {
      for (let j = 0; j < image.data.length; j += 65536)
        crypto.getRandomValues(image.data.subarray(j, Math.min(j + 65536, image.data.length)));
      g.putImageData(image, 0, 0);
      const frame = new VideoFrame(canvas, { timestamp: i * 100000 });
      encoder.encode(frame, { keyFrame: i % 10 === 0 });
      frame.close();
    }
    await encoder.flush();
    return out;
  })()`)) as { key: boolean; timestamp: number; data: string }[];
  return chunks.map((c) => ({ ...c, data: Buffer.from(c.data, 'base64') }));
}

// EBML with every size written in 8 bytes and every number in 8, so an element's length does not
// depend on its value and the cues can point at clusters before the clusters are placed.
const ebmlId = (id: number): Buffer => Buffer.from(id.toString(16).padStart(2, '0'), 'hex');
function el(id: number, ...body: Buffer[]): Buffer {
  const data = Buffer.concat(body);
  const size = Buffer.alloc(8);
  size[0] = 0x01;
  size.writeUIntBE(data.length, 2, 6);
  return Buffer.concat([ebmlId(id), size, data]);
}
const uint = (id: number, v: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(v));
  return el(id, b);
};
const float = (id: number, v: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(v);
  return el(id, b);
};
const text = (id: number, v: string): Buffer => el(id, Buffer.from(v, 'latin1'));

/** A WebM file (Matroska, VP8) of the frames: one cluster per key frame, cues before them. */
export function webm(
  frames: VideoFrameChunk[],
  width: number,
  height: number,
  durationMs: number,
): Buffer {
  const header = el(
    0x1a45dfa3,
    uint(0x4286, 1),
    uint(0x42f7, 1),
    uint(0x42f2, 4),
    uint(0x42f3, 8),
    text(0x4282, 'webm'),
    uint(0x4287, 2),
    uint(0x4285, 2),
  );
  const info = el(
    0x1549a966,
    uint(0x2ad7b1, 1_000_000), // timestamps in milliseconds
    float(0x4489, durationMs),
    text(0x4d80, 'pc2 tests'),
    text(0x5741, 'pc2 tests'),
  );
  const tracks = el(
    0x1654ae6b,
    el(
      0xae,
      uint(0xd7, 1),
      uint(0x73c5, 1),
      uint(0x83, 1),
      text(0x86, 'V_VP8'),
      el(0xe0, uint(0xb0, width), uint(0xba, height)),
    ),
  );
  const groups: VideoFrameChunk[][] = [];
  for (const f of frames) {
    if (f.key || groups.length === 0) groups.push([]);
    groups[groups.length - 1].push(f);
  }
  const clusters = groups.map((g) => {
    const start = Math.round(g[0].timestamp / 1000);
    return {
      start,
      bytes: el(
        0x1f43b675,
        uint(0xe7, start),
        ...g.map((f) => {
          const head = Buffer.alloc(4);
          head[0] = 0x81; // track 1
          head.writeInt16BE(Math.round(f.timestamp / 1000) - start, 1);
          head[3] = f.key ? 0x80 : 0;
          return el(0xa3, head, f.data);
        }),
      ),
    };
  });
  const cues = (positions: number[]): Buffer =>
    el(
      0x1c53bb6b,
      ...clusters.map((c, i) =>
        el(0xbb, uint(0xb3, c.start), el(0xb7, uint(0xf7, 1), uint(0xf1, positions[i]))),
      ),
    );
  let at = info.length + tracks.length + cues(clusters.map(() => 0)).length;
  const positions = clusters.map((c) => {
    const p = at;
    at += c.bytes.length;
    return p;
  });
  return Buffer.concat([
    header,
    el(0x18538067, info, tracks, cues(positions), ...clusters.map((c) => c.bytes)),
  ]);
}
