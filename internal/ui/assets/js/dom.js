// DOM helpers. Everything the UI shows from the API goes through these, and
// they only ever create text nodes for data: there is no innerHTML anywhere in
// the UI's own code (ui_test.go checks that).

/**
 * h creates an element. attrs: class, style (object), dataset (object),
 * on<Event> (function), hidden/disabled/checked/selected/value (properties),
 * anything else as an attribute. children: strings and numbers become text
 * nodes; null, undefined and false are skipped; arrays are flattened.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) setAttrs(el, attrs);
  append(el, children);
  return el;
}

const PROPS = new Set(['hidden', 'disabled', 'checked', 'selected', 'value', 'tabIndex', 'title', 'type', 'name', 'id', 'htmlFor']);

function setAttrs(el, attrs) {
  for (const k in attrs) {
    const v = attrs[k];
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'style') setStyle(el, v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'href') el.setAttribute('href', safeHref(v));
    else if (PROPS.has(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

/** setStyle sets inline style properties; names starting with -- are custom properties. */
export function setStyle(el, styles) {
  for (const k in styles) {
    if (k.startsWith('--')) el.style.setProperty(k, styles[k]);
    else el.style[k] = styles[k];
  }
}

/** append adds children (text, nodes, nested arrays) to el. */
export function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
  return el;
}

/** safeHref allows only same-origin paths and fragments: data never becomes a javascript: URL. */
export function safeHref(v) {
  const s = String(v);
  if (/^(\/(?!\/)|\?|#)/.test(s)) return s;
  throw new Error('refusing a non-relative href');
}

/** clear removes every child of el. */
export function clear(el) {
  el.replaceChildren();
  return el;
}

/** setText replaces el's content with one text node. */
export function setText(el, s) {
  el.textContent = s == null ? '' : String(s);
}

/** debounce returns fn delayed until calls stop for ms. */
export function debounce(fn, ms) {
  let t = 0;
  const d = (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
  d.cancel = () => clearTimeout(t);
  return d;
}

/** isTyping reports whether a keyboard event targets a text field, where shortcuts must not fire. */
export function isTyping(e) {
  const t = e.target;
  if (!(t instanceof HTMLElement)) return false;
  const tag = t.tagName;
  return t.isContentEditable || tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT';
}
