// The Rollbar access page (/errors/access): the projects and their access tokens, whether
// tokens lookout has never seen are accepted, and a form that makes a token. A new token is
// shown whole once, when it is made; the list shows each token's first characters only.
import { h, clear, setText } from './dom.js';
import { getJSON, sendJSON } from './api.js';
import { busy, showError, emptyState } from './shell.js';
import { formatDateTime } from './format.js';

const SCOPES = [
  ['post_server_item', 'post server items'],
  ['post_client_item', 'post client items'],
  ['read', 'read'],
  ['write', 'write'],
];
const SOURCES = { file: 'token file', ui: 'made here', seen: 'seen from a client' };

export class ErrorAccessPage {
  mount(root) {
    document.title = 'Rollbar access · lookout';
    this.abort = new AbortController();
    this.access = h('section', { class: 'error-section access-state', 'aria-label': 'Which tokens are accepted' });
    this.made = h('div', { class: 'access-made', role: 'status' });
    this.tokens = h('section', { class: 'error-section', 'aria-label': 'Tokens' });
    this.el = h('div', { class: 'errors-page access-page' },
      h('div', { class: 'errors-filters' }, h('h2', null, 'Rollbar projects and access tokens'),
        h('a', { href: '/errors', 'data-nav': true }, 'Back to the errors')),
      this.access, this.form(), this.made, this.tokens);
    root.appendChild(this.el);
    this.load();
  }

  unmount() {
    this.abort.abort();
    this.el.remove();
  }

  async load() {
    try {
      this.render(await busy(getJSON('/api/v1/errors/access', null, this.abort.signal)));
    } catch (err) {
      if (err.name === 'AbortError') return;
      clear(this.tokens).appendChild(emptyState('Could not load the tokens', err.message, 'is-error'));
    }
  }

  // change sends a change and shows the access it leaves.
  async change(path, body, method) {
    try {
      const res = await busy(sendJSON(path, body, this.abort.signal, method));
      if (res && res.token) {
        this.showMade(res);
        await this.load();
      } else {
        this.render(res);
      }
    } catch (err) {
      if (err.name !== 'AbortError') showError(err.message);
    }
  }

  form() {
    this.project = h('input', { name: 'project', type: 'text', placeholder: 'Project, e.g. cruddur', list: 'access-projects', spellcheck: 'false', 'aria-label': 'Project', required: true });
    this.projects = h('datalist', { id: 'access-projects' });
    this.name = h('input', { name: 'name', type: 'text', placeholder: 'Token name, e.g. backend-flask', spellcheck: 'false', 'aria-label': 'Token name', required: true });
    this.scopes = SCOPES.map(([value, label]) => h('label', { class: 'access-scope' },
      h('input', { type: 'checkbox', name: 'scope', value, checked: value === 'post_server_item' }), label));
    return h('form', { class: 'errors-filters access-form', onSubmit: (e) => {
      e.preventDefault();
      const scopes = this.scopes.map((l) => l.firstChild).filter((c) => c.checked).map((c) => c.value);
      this.change('/api/v1/errors/tokens', { project: this.project.value, name: this.name.value, scopes });
    } },
    h('strong', null, 'New token'), this.project, this.projects, this.name, ...this.scopes,
    h('button', { type: 'submit', class: 'btn btn-primary' }, 'Make token'));
  }

  showMade(t) {
    clear(this.made).appendChild(h('div', { class: 'notice' },
      h('div', null, `Token ${t.name} of project ${t.project}: copy it now, lookout shows it whole only this once.`),
      h('code', { class: 'mono access-token', id: 'new-token' }, t.token),
      h('div', { class: 'muted small' }, 'Give it to the SDK as it is, e.g. ', h('code', null, `ROLLBAR_ACCESS_TOKEN=${t.token}`))));
  }

  render(a) {
    clear(this.projects).append(...a.projects.map((p) => h('option', { value: p })));
    let state;
    let action = null;
    if (a.open) {
      state = 'lookout accepts any access token: one it has never seen gets a project of its own, named token- and its first characters. '
        + 'That suits trying lookout; once your projects have tokens, accept only those.';
      action = h('button', { type: 'button', class: 'btn', onClick: () => this.change('/api/v1/errors/access', { open: false }, 'PUT') }, 'Accept only these tokens');
    } else if (a.fromFile) {
      state = 'Only the tokens below are accepted (lookout runs with --rollbar-tokens); others get 403. Tokens made here are kept beside the file\'s.';
    } else {
      state = 'Only the tokens below are accepted; others get 403.';
      action = h('button', { type: 'button', class: 'btn', onClick: () => this.change('/api/v1/errors/access', { open: true }, 'PUT') }, 'Accept any token');
    }
    clear(this.access).append(h('p', { id: 'access-state' }, state), action || '');
    clear(this.tokens);
    if (!a.tokens.length) {
      this.tokens.appendChild(emptyState('No tokens yet', 'Make one above, or send an item with any token while lookout accepts any.'));
      return;
    }
    this.tokens.appendChild(h('table', { class: 'qtable access-tokens' },
      h('thead', null, h('tr', null, ['Project', 'Name', 'Token', 'Scopes', 'From', 'Since', ''].map((t) => h('th', null, t)))),
      h('tbody', null, a.tokens.map((t) => {
        const fixed = t.source === 'file' || a.open; // while any token is accepted, a revoked one would be again
        return h('tr', { dataset: { tokenId: t.id } },
          h('td', null, t.project), h('td', null, t.name), h('td', { class: 'mono' }, `${t.prefix}…`),
          h('td', null, t.scopes.join(', ')), h('td', null, SOURCES[t.source] || t.source),
          h('td', null, t.created ? formatDateTime(Date.parse(t.created)) : ''),
          h('td', null, fixed ? '' : h('button', { type: 'button', class: 'btn btn-small', onClick: () => {
            if (window.confirm(`Revoke token ${t.name} of ${t.project}? Clients sending it get 403 from now on.`)) {
              this.change(`/api/v1/errors/tokens/${encodeURIComponent(t.id)}`, undefined, 'DELETE');
            }
          } }, 'Revoke')));
      }))));
  }
}
