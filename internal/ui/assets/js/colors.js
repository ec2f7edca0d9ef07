// Service colours. A service keeps the colour it was first given in this
// browser: colours are handed out in order of first sight (the sorted service
// list from the server, or the sorted services of a trace), each new service
// taking the colour the fewest services have, and the assignment is kept in
// localStorage. So services shown together differ as long as there are no
// more of them than colours, and a service looks the same on every page and
// every visit. The palette has no reds: red means an error.

export const PALETTE = [
  '#3b6fd4', // blue
  '#e08600', // orange
  '#109e7c', // teal
  '#8b52d6', // violet
  '#d1409a', // magenta
  '#0b9ec6', // cyan
  '#76981a', // olive
  '#93643a', // brown
  '#5d6b7e', // slate
  '#c29c00', // mustard
  '#1f4f95', // navy
  '#3aa655', // green
];

export const ERROR_COLOR = '#d92d20';

const STORAGE_KEY = 'lookout.serviceColors';
const MAX_REMEMBERED = 2000;

let assigned = null; // Map: service name -> palette index
let uses = null; // services per palette index

function load() {
  if (assigned) return;
  assigned = new Map();
  uses = new Array(PALETTE.length).fill(0);
  let saved = {};
  try {
    saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || '{}') || {};
  } catch {
    saved = {}; // storage disabled or damaged: start over
  }
  for (const [name, i] of Object.entries(saved)) {
    if (Number.isInteger(i) && i >= 0 && i < PALETTE.length) {
      assigned.set(name, i);
      uses[i]++;
    }
  }
}

function save() {
  if (assigned.size > MAX_REMEMBERED) return;
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(Object.fromEntries(assigned)));
  } catch {
    // storage full or disabled: colours still hold for this page
  }
}

// assign gives name the least used colour (the lowest such index) and reports whether it was new.
function assign(name) {
  if (assigned.has(name)) return false;
  let best = 0;
  for (let i = 1; i < uses.length; i++) if (uses[i] < uses[best]) best = i;
  assigned.set(name, best);
  uses[best]++;
  return true;
}

/** learnServices gives every service not seen before a colour, in the order given. */
export function learnServices(names) {
  load();
  let changed = false;
  for (const n of names) changed = assign(String(n)) || changed;
  if (changed) save();
}

/** serviceColor returns the colour of a service, giving it one if it has none yet. */
export function serviceColor(name) {
  load();
  const key = String(name);
  if (assign(key)) save();
  return PALETTE[assigned.get(key)];
}

/** seriesColor colours the i-th series of a chart whose series are not services. */
export function seriesColor(i) {
  return PALETTE[i % PALETTE.length];
}
