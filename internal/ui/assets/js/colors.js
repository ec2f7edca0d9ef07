// Service colours: a stable hash of the service name picks one of a fixed
// palette, so a service has the same colour on every page and every visit.
// The palette has no reds: red means an error.

export const PALETTE = [
  '#3b7dd8', // blue
  '#1e9e74', // green
  '#d98b0b', // amber
  '#8257d6', // violet
  '#0f9bb5', // cyan
  '#6a9e1f', // olive
  '#c2459a', // magenta
  '#4f5fd1', // indigo
  '#138a80', // teal
  '#b8741a', // ochre
  '#9b4fc4', // purple
  '#2f8fd0', // sky
  '#4c9a44', // leaf
  '#7a8a1c', // moss
  '#5d6b7e', // slate
  '#a25a7d', // plum
];

export const ERROR_COLOR = '#d92d20';

/** hashString is 32-bit FNV-1a over UTF-16 code units. */
export function hashString(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const cache = new Map();

/** serviceColor returns the palette colour of a service name. */
export function serviceColor(name) {
  let c = cache.get(name);
  if (c === undefined) {
    c = PALETTE[hashString(String(name)) % PALETTE.length];
    if (cache.size < 10000) cache.set(name, c);
  }
  return c;
}
