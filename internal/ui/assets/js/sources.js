// The sources page: what is arriving, and what is wrong with it. Every sender lookout has seen
// (protocol, SDK, credential fingerprint, destination, first and last seen, rate, refusals),
// warnings in plain words above them, and set-up snippets with lookout's own addresses.
import { h, clear, setText } from './dom.js';
import { api } from './api.js';
import { showError, emptyState } from './shell.js';
import { formatCount, formatRelative, plural } from './format.js';

const REFRESH_MS = 5000;

const PROTOCOLS = {
  otlp: 'OpenTelemetry (OTLP)',
  honeycomb: 'Honeycomb Events API',
  xray: 'AWS X-Ray',
  rollbar: 'Rollbar',
  'cloudwatch-logs': 'CloudWatch Logs',
};

export class SourcesPage {
  mount(root) {
    document.title = 'Sources · lookout';
    this.root = root;
    this.warnings = h('section', { class: 'sources-warnings', 'aria-label': 'Warnings' });
    this.table = h('section', { class: 'sources-senders', 'aria-label': 'Senders' });
    this.setup = h('section', { class: 'sources-setup', 'aria-label': 'Set-up' });
    this.extra = h('div', { class: 'sources-extra' });
    root.appendChild(h('div', { class: 'sources-page' },
      h('h1', { class: 'page-title' }, 'Sources'),
      h('p', { class: 'page-lede' }, 'What is arriving, from whom, and what is wrong with it.'),
      this.extra, this.warnings, this.table, this.setup));
    this.controller = new AbortController();
    this.loadDemo();
    this.load();
    this.timer = setInterval(() => this.load(), REFRESH_MS);
  }

  unmount() {
    clearInterval(this.timer);
    this.controller.abort();
  }

  async load() {
    let data;
    try {
      data = await api.sources(this.controller.signal);
    } catch (err) {
      if (err.name !== 'AbortError') showError(`Could not load the sources: ${err.message}`);
      return;
    }
    this.render(data);
  }

  // loadDemo shows the switch of the demo's troubles when lookout demo runs.
  async loadDemo() {
    let demo;
    try {
      demo = await api.demo(this.controller.signal);
    } catch {
      return; // no demo: nothing to switch
    }
    const select = h('select', { id: 'demo-trouble', 'aria-label': 'Trouble' },
      h('option', { value: '' }, 'none: Cruddur works as intended'),
      demo.troubles.map((t) => h('option', { value: t.name, selected: t.name === demo.trouble }, `${t.name}: ${t.description}`)));
    const status = h('span', { class: 'muted', role: 'status' });
    const apply = h('button', { type: 'button', class: 'btn btn-primary', onClick: async () => {
      try {
        const now = await api.setDemoTrouble(select.value);
        setText(status, now.trouble ? `${now.trouble} is on: find it on the pages, or in the warnings below.` : 'No trouble is on.');
      } catch (err) {
        showError(`Could not switch the trouble: ${err.message}`);
      }
    } }, 'Switch');
    setText(status, demo.trouble ? `${demo.trouble} is on.` : 'No trouble is on.');
    this.extra.appendChild(h('div', { class: 'demo-troubles' },
      h('strong', null, 'Demo: '), h('label', { htmlFor: 'demo-trouble' }, 'switch on one of Cruddur\'s troubles'), select, apply, status));
  }

  render(data) {
    const now = Date.now();
    clear(this.warnings);
    const warnings = data.warnings || [];
    if (warnings.length) {
      this.warnings.appendChild(h('h2', null, plural(warnings.length, 'warning')));
      this.warnings.appendChild(h('ul', { class: 'warning-list' }, warnings.map((w) => h('li', { class: 'warning', dataset: { kind: w.kind } },
        h('span', { class: 'warning-kind' }, w.kind),
        h('span', { class: 'warning-message' }, w.message),
        h('span', { class: 'warning-at' }, formatRelative(Date.parse(w.at) * 1000, now)),
        w.sender ? h('span', { class: 'warning-sender' }, senderLabel(w.sender)) : null,
        w.traceID ? h('a', { class: 'warning-sender', href: `/trace/${encodeURIComponent(w.traceID)}`, 'data-nav': true }, 'Open an example trace') : null,
        w.kind === 'new-token' ? h('a', { class: 'warning-sender', href: '/errors/access', 'data-nav': true }, 'Projects and tokens') : null))));
    } else {
      this.warnings.appendChild(h('p', { class: 'all-well' }, 'No warnings: everything that arrives is stored.'));
    }

    clear(this.table);
    const senders = data.senders || [];
    this.table.appendChild(h('h2', null, 'Senders'));
    if (!senders.length) {
      this.table.appendChild(emptyState('Nothing has arrived yet', 'Point an SDK at one of the addresses below; its first request shows here, refused or not.'));
    } else {
      this.table.appendChild(h('table', { class: 'sources-table' },
        h('thead', null, h('tr', null, ['Protocol', 'SDK', 'Credential', 'Lands in', 'First seen', 'Last seen', 'Per minute', 'Items', 'Refused'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', null, senders.map((s) => h('tr', { class: s.active ? '' : 'quiet', dataset: { protocol: s.protocol } },
          h('td', null, PROTOCOLS[s.protocol] || s.protocol),
          h('td', null, s.sdk || '—'),
          h('td', { class: 'mono', title: 'fingerprint: the first 12 hex digits of its SHA-256' }, s.credential || 'none'),
          h('td', null, s.destination || '—'),
          h('td', null, formatRelative(Date.parse(s.firstSeen) * 1000, now)),
          h('td', null, formatRelative(Date.parse(s.lastSeen) * 1000, now)),
          h('td', { class: 'num' }, formatCount(s.perMinute)),
          h('td', { class: 'num' }, formatCount(s.items)),
          h('td', { class: s.refused ? 'num refused' : 'num' }, s.refused ? [formatCount(s.refused), h('div', { class: 'reasons' }, Object.keys(s.refusals || {}).map((r) => h('div', null, r)))] : '0'))))));
    }

    if (!this.setupShown && data.endpoints) {
      this.setupShown = true;
      renderSetup(this.setup, data.endpoints);
    }
  }
}

function senderLabel(s) {
  return [PROTOCOLS[s.protocol] || s.protocol, s.sdk, s.credential && `key ${s.credential}`, s.destination].filter(Boolean).join(' · ');
}

// renderSetup shows, for each SDK, what to set so that it sends to this lookout.
function renderSetup(el, ep) {
  const xray = ep.xrayDaemon || '127.0.0.1:2000';
  const snippets = [
    ['OpenTelemetry SDKs (Honeycomb)', `OTEL_EXPORTER_OTLP_ENDPOINT=${ep.otlpHttp}\nOTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf\nOTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=YOUR_KEY\nOTEL_SERVICE_NAME=backend-flask`],
    ['OpenTelemetry over gRPC', `OTEL_EXPORTER_OTLP_ENDPOINT=http://${ep.otlpGrpc}\nOTEL_EXPORTER_OTLP_PROTOCOL=grpc`],
    ['libhoney / Beeline', `APIHost: "${ep.vendorHttp}"\nWriteKey: "YOUR_KEY"`],
    ['AWS X-Ray SDKs', `AWS_XRAY_DAEMON_ADDRESS=${xray}\n# the AWS CLI and SDK clients of the X-Ray API:\nAWS_ENDPOINT_URL_XRAY=${ep.vendorHttp}`],
    ['Rollbar', `# rollbar-go\nrollbar.SetEndpoint("${ep.vendorHttp}/api/1/item/")\n# pyrollbar\nrollbar.init(token, "production", endpoint="${ep.vendorHttp}/api/1/")\n# rollbar.js\nnew Rollbar({ accessToken, endpoint: "${ep.vendorHttp}/api/1/" })`],
    ['CloudWatch Logs (watchtower, boto3, AWS SDKs, AWS CLI)', `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=${ep.vendorHttp}\nAWS_DEFAULT_REGION=us-east-1\nAWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=…`],
  ];
  el.appendChild(h('h2', null, 'Set up a sender'));
  el.appendChild(h('div', { class: 'setup-grid' }, snippets.map(([title, text]) => {
    const pre = h('pre', { class: 'snippet' }, text);
    const copy = h('button', { type: 'button', class: 'copy-btn', onClick: async () => {
      try {
        await navigator.clipboard.writeText(text);
        setText(copy, 'Copied');
      } catch {
        setText(copy, 'Select and copy');
      }
      setTimeout(() => setText(copy, 'Copy'), 1500);
    } }, 'Copy');
    return h('div', { class: 'setup-card' }, h('div', { class: 'setup-head' }, h('h3', null, title), copy), pre);
  })));
}
