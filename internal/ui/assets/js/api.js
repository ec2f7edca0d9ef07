// Client for the same-origin JSON API. Every response is {"data": ...}; an
// error is {"data": null, "errors": [{"code", "msg"}]} with a 4xx/5xx status,
// and ApiError carries the server's msg so the UI can show it.

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

/** getJSON fetches path (with optional URLSearchParams) and returns the response's data. */
export async function getJSON(path, params, signal) {
  return (await getPage(path, params, signal)).data;
}

/** getPage is getJSON for lists: it returns the whole response, {data, total, limit, offset}. */
export async function getPage(path, params, signal) {
  const qs = params && String(params);
  return request(qs ? `${path}?${qs}` : path, { signal }, path);
}

/** sendJSON sends body as JSON (POST unless method says otherwise) and returns the response's data. */
export async function sendJSON(path, body, signal, method = 'POST') {
  return (await request(path, { method, signal, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }, path)).data;
}

async function request(url, opts, path) {
  let res;
  try {
    res = await fetch(url, { ...opts, headers: { Accept: 'application/json', ...(opts.headers || {}) }, credentials: 'same-origin' });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(`Cannot reach the lookout server (${err.message})`, 0);
  }
  let body = null;
  const text = await res.text();
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok || (body && Array.isArray(body.errors) && body.errors.length && body.data == null)) {
    const msgs = body && Array.isArray(body.errors)
      ? body.errors.map((e) => (e && e.msg ? String(e.msg) : '')).filter(Boolean)
      : [];
    const msg = msgs.length ? msgs.join('; ') : `${res.status} ${res.statusText || 'error'}`.trim();
    throw new ApiError(msg, res.status);
  }
  if (body === null || typeof body !== 'object') {
    throw new ApiError(`Unexpected response from ${path}`, res.status);
  }
  return body;
}

const enc = encodeURIComponent;

export const api = {
  services: (signal) => getJSON('/api/services', null, signal).then(asStrings),
  operations: (service, signal) => getJSON(`/api/services/${enc(service)}/operations`, null, signal).then(asStrings),
  traceSummaries: (params, signal) => getJSON('/api/v1/trace-summaries', params, signal).then((d) => (Array.isArray(d) ? d : [])),
  trace: async (traceID, signal) => {
    const data = await getJSON(`/api/traces/${enc(traceID)}`, null, signal);
    const t = Array.isArray(data) ? data[0] : null;
    if (!t || !Array.isArray(t.spans) || t.spans.length === 0) throw new ApiError(`Trace ${traceID} not found`, 404);
    return t;
  },
  datasets: (signal) => getJSON('/api/v1/datasets', null, signal),
  columns: (dataset, signal) => getJSON('/api/v1/columns', new URLSearchParams({ dataset }), signal),
  values: (dataset, column, prefix, signal) => getJSON('/api/v1/values', new URLSearchParams({ dataset, column, prefix }), signal),
  query: (dataset, query, signal) => sendJSON('/api/v1/query', { dataset, query }, signal),
  bubbleUp: (dataset, query, selection, signal) => sendJSON('/api/v1/bubbleup', { dataset, query, selection }, signal),
  events: (dataset, query, limit, signal) => sendJSON('/api/v1/events', { dataset, query, limit }, signal),
  savedQueries: (signal) => getJSON('/api/v1/saved-queries', null, signal),
  saveQuery: (name, dataset, query) => sendJSON('/api/v1/saved-queries', { name, dataset, query }),
  sources: (signal) => getJSON('/api/v1/sources', null, signal),
  demo: (signal) => getJSON('/api/v1/demo', null, signal),
  setDemoTrouble: (trouble) => sendJSON('/api/v1/demo', { trouble }, undefined, 'PUT'),
  deleteSavedQuery: (id) => sendJSON(`/api/v1/saved-queries/${enc(id)}`, undefined, undefined, 'DELETE'),
};

function asStrings(d) {
  if (!Array.isArray(d)) return [];
  return d.filter((x) => typeof x === 'string').sort((a, b) => a.localeCompare(b));
}
