import { test } from 'node:test';
import assert from 'node:assert/strict';

// A localStorage for node, shared by every import of colors.js below, as one browser's is.
const store = new Map();
globalThis.localStorage = { getItem: (k) => (store.has(k) ? store.get(k) : null), setItem: (k, v) => store.set(k, String(v)) };

const load = (tag) => import(`../assets/js/colors.js?${tag}`); // a new module instance: a page load

test('services get distinct colours in order of first sight, kept across page loads', async () => {
  const page1 = await load('page1');
  const { PALETTE } = page1;
  // Names whose hashes fell on one colour of 16 before.
  page1.learnServices(['auth', 'cruddur-api', 'frontend', 'notifications']);
  const first = ['auth', 'cruddur-api', 'frontend', 'notifications'].map(page1.serviceColor);
  assert.deepEqual(first, PALETTE.slice(0, 4));
  assert.equal(page1.serviceColor('billing'), PALETTE[4], 'a new service takes the next free colour');

  const page2 = await load('page2');
  page2.learnServices(['aardvark', 'auth', 'billing']);
  assert.deepEqual(['auth', 'cruddur-api', 'frontend', 'notifications', 'billing'].map(page2.serviceColor), [...first, PALETTE[4]], 'colours survive a reload');
  assert.equal(page2.serviceColor('aardvark'), PALETTE[5], 'a service seen later does not move the others');
});

test('with more services than colours, a new one takes the least used', async () => {
  store.clear();
  const page = await load('many');
  const names = Array.from({ length: page.PALETTE.length + 3 }, (_, i) => `svc-${String(i).padStart(2, '0')}`);
  page.learnServices(names);
  const colors = names.map(page.serviceColor);
  assert.equal(new Set(colors.slice(0, page.PALETTE.length)).size, page.PALETTE.length, 'the first ones all differ');
  assert.deepEqual(colors.slice(page.PALETTE.length), page.PALETTE.slice(0, 3));
  assert.equal(page.seriesColor(1), page.PALETTE[1]);
});

test('without storage, colours still hold for the page', async () => {
  const saved = globalThis.localStorage;
  globalThis.localStorage = { getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('denied'); } };
  try {
    const page = await load('nostorage');
    page.learnServices(['b', 'a']);
    assert.deepEqual(['b', 'a'].map(page.serviceColor), page.PALETTE.slice(0, 2));
  } finally {
    globalThis.localStorage = saved;
  }
});
