// The demo page: a shared text area with every other user's caret, selection and name, a list of who is
// present, a typing indicator and the connection status, all through presence-client.js.
//
// Query parameters, all optional: `name` and `doc` prefill the form, and `server` names another gateway
// URL than this page's own /v1/ws. `user` fixes the user id. Without it the page makes a random id and
// keeps it for this tab in sessionStorage, so a reload is the same user.

import { CursorRenderer, PresenceClient, TextareaAdapter, TypingIndicator } from './client/presence-client.js';

const SAMPLE_TEXT = `# Release notes draft

## What changed
- Cursors of everyone in the document, in their own colour.
- Typing indicators that clear half a second after the last key.
- Idle after 30 seconds without activity, away after 5 minutes.

## Open questions
1. Should the label stay visible while a user selects text?
2. How many carets can a page draw before scrolling stutters?
3. Who reviews the protocol documentation?

## Try it
Open this page in a second window with another name,
move the caret or select text in one window,
and watch it appear in the other.
`;

const ADJECTIVES = ['Brisk', 'Calm', 'Curious', 'Eager', 'Gentle', 'Lively', 'Nimble', 'Quiet', 'Sunny', 'Witty'];
const ANIMALS = ['Badger', 'Crane', 'Dolphin', 'Falcon', 'Fox', 'Heron', 'Lynx', 'Otter', 'Panda', 'Wren'];
const ACTIVITY_LABELS = { Editing: 'editing', Viewing: 'viewing', Selecting: 'selecting', Idle: 'idle', Away: 'away' };
const ERROR_DISPLAY_MS = 8000;

const params = new URLSearchParams(window.location.search);
const elements = {
  form: document.getElementById('join-form'),
  nameInput: document.getElementById('name-input'),
  documentInput: document.getElementById('document-input'),
  joinButton: document.getElementById('join-button'),
  leaveButton: document.getElementById('leave-button'),
  status: document.getElementById('connection-status'),
  editor: document.getElementById('editor'),
  typing: document.getElementById('typing-indicator'),
  people: document.getElementById('people'),
  peopleCount: document.getElementById('people-count'),
  error: document.getElementById('error-message'),
};

const adapter = new TextareaAdapter(elements.editor);
const renderer = new CursorRenderer(adapter);
const typingIndicator = new TypingIndicator(elements.typing);

/** The current connection and document, or null before Join and after Leave. */
let session = null;
let errorTimer = null;

function pick(list) {
  return list[Math.floor(Math.random() * list.length)];
}

function randomHex(bytes) {
  const values = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(values, (value) => value.toString(16).padStart(2, '0')).join('');
}

/** Returns the user id of this tab: the `user` parameter, or a random id kept in sessionStorage. */
function tabUserId() {
  const fromQuery = params.get('user');
  if (fromQuery) return fromQuery;
  let id = sessionStorage.getItem('presence-demo.user-id');
  if (!id) {
    id = `guest-${randomHex(6)}`;
    sessionStorage.setItem('presence-demo.user-id', id);
  }
  return id;
}

function gatewayUrl() {
  const fromQuery = params.get('server');
  if (fromQuery) return fromQuery;
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${window.location.host}/v1/ws`;
}

function initials(name) {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[words.length - 1]] : words;
  return letters.map((word) => Array.from(word)[0].toUpperCase()).join('') || '?';
}

// MARK: - Status and errors

function showConnectionStatus() {
  if (!session) {
    setStatus('idle', 'Not connected');
    return;
  }
  const { client, doc } = session;
  const quotedId = `"${doc.id}"`;
  switch (client.status) {
    case 'connecting':
      setStatus('connecting', 'Connecting...');
      return;
    case 'reconnecting': {
      const seconds = session.retryDelayMs ? ` in ${(session.retryDelayMs / 1000).toFixed(1)} s` : '';
      setStatus('reconnecting', `Reconnecting${seconds} (attempt ${session.attempt})`);
      return;
    }
    case 'closed':
      setStatus('closed', 'Disconnected');
      return;
    default:
      break;
  }
  const byDocumentStatus = {
    joining: `Joining ${quotedId}...`,
    joined: `Connected to ${quotedId}`,
    rejoining: `Rejoining ${quotedId}...`,
    left: 'Left the document',
    failed: `Could not join ${quotedId}`,
  };
  setStatus(doc.status === 'joined' ? 'open' : 'connecting', byDocumentStatus[doc.status]);
}

function setStatus(status, text) {
  elements.status.dataset.status = status;
  elements.status.textContent = text;
}

function showError(error) {
  elements.error.textContent = `${error.code}: ${error.message}`;
  elements.error.hidden = false;
  clearTimeout(errorTimer);
  errorTimer = setTimeout(() => {
    elements.error.hidden = true;
  }, ERROR_DISPLAY_MS);
}

// MARK: - People

function describeActivity(user) {
  const parts = [ACTIVITY_LABELS[user.state.activity] ?? String(user.state.activity).toLowerCase()];
  if (user.state.typing) parts.push('typing');
  if (!user.state.focused) parts.push('tab hidden');
  return parts.join(' · ');
}

function renderPeople() {
  const doc = session?.doc;
  const users = doc ? Array.from(doc.users.values()) : [];
  const selfId = doc?.selfId;
  // This user first, then everyone else by name.
  users.sort((a, b) => {
    if (a.user_id === selfId) return -1;
    if (b.user_id === selfId) return 1;
    return a.name.localeCompare(b.name);
  });

  const items = users.map((user) => {
    const item = document.createElement('li');
    item.className = `person is-${String(user.state.activity).toLowerCase()}`;
    item.dataset.userId = user.user_id;

    const avatar = document.createElement('span');
    avatar.className = 'avatar';
    avatar.style.backgroundColor = user.color;
    avatar.textContent = initials(user.name);
    avatar.title = user.name;

    const text = document.createElement('span');
    text.className = 'person-text';
    const name = document.createElement('span');
    name.className = 'person-name';
    name.textContent = user.user_id === selfId ? `${user.name} (you)` : user.name;
    const activity = document.createElement('span');
    activity.className = 'person-activity';
    activity.textContent = describeActivity(user);
    text.append(name, activity);

    item.append(avatar, text);
    return item;
  });
  elements.people.replaceChildren(...items);
  elements.peopleCount.textContent = users.length > 0 ? `(${users.length})` : '';
}

// MARK: - This user's presence

function sendLocalCursor() {
  const doc = session?.doc;
  if (!doc || doc.status !== 'joined') return;
  const { cursor, selection } = adapter.readSelection();
  const key = JSON.stringify([cursor, selection]);
  if (key === session.lastCursorKey) return;
  session.lastCursorKey = key;
  doc.moveCursor(cursor, selection);
}

function sendLocalViewport() {
  const doc = session?.doc;
  if (!doc || doc.status !== 'joined') return;
  doc.setViewport(adapter.readViewport());
}

function watchLocalEditor() {
  const editor = elements.editor;
  editor.addEventListener('input', () => {
    session?.doc.keystroke();
    sendLocalCursor();
  });
  for (const type of ['keyup', 'mouseup', 'click', 'select', 'focus']) editor.addEventListener(type, sendLocalCursor);
  editor.addEventListener('mousemove', (event) => {
    if (event.buttons !== 0) sendLocalCursor();
  });
  // Chromium and Firefox also report selection changes in a textarea here, including keyboard ones.
  document.addEventListener('selectionchange', () => {
    if (document.activeElement === editor) sendLocalCursor();
  });
  editor.addEventListener('scroll', sendLocalViewport);
}

// MARK: - Joining and leaving

function join(name, documentId) {
  leave();
  const client = new PresenceClient({ url: gatewayUrl(), user: { id: tabUserId(), name }, workspaceId: 'demo' });
  const doc = client.join(documentId);
  session = { client, doc, stops: [], lastCursorKey: null, retryDelayMs: 0, attempt: 0 };

  session.stops.push(
    renderer.attach(doc),
    typingIndicator.attach(doc),
    client.on('status', (event) => {
      session.retryDelayMs = event.delayMs ?? 0;
      session.attempt = event.attempt;
      showConnectionStatus();
    }),
    client.on('error', showError),
    doc.on('status', (event) => {
      if (event.status === 'joined') {
        // The gateway starts each join without a cursor, so the current one is sent again.
        session.lastCursorKey = null;
        sendLocalCursor();
        sendLocalViewport();
      }
      showConnectionStatus();
      renderPeople();
    }),
  );
  for (const type of ['join', 'leave', 'update']) session.stops.push(doc.on(type, renderPeople));

  doc.ready.then(
    () => {
      elements.editor.disabled = false;
      elements.leaveButton.hidden = false;
      elements.editor.focus();
    },
    (error) => showError(error),
  );

  sessionStorage.setItem('presence-demo.name', name);
  const url = new URL(window.location.href);
  url.searchParams.set('doc', documentId);
  window.history.replaceState(null, '', url);
  showConnectionStatus();
}

function leave() {
  if (!session) return;
  for (const stop of session.stops) stop();
  session.doc.leave();
  session.client.close();
  session = null;
  renderer.clear();
  typingIndicator.clear();
  elements.editor.disabled = true;
  elements.leaveButton.hidden = true;
  renderPeople();
  showConnectionStatus();
}

// MARK: - Start-up

elements.editor.value = SAMPLE_TEXT;
elements.nameInput.value = params.get('name') ?? sessionStorage.getItem('presence-demo.name') ?? `${pick(ADJECTIVES)} ${pick(ANIMALS)}`;
elements.documentInput.value = params.get('doc') ?? 'demo';
watchLocalEditor();
showConnectionStatus();

elements.form.addEventListener('submit', (event) => {
  event.preventDefault();
  const name = elements.nameInput.value.trim();
  const documentId = elements.documentInput.value.trim();
  if (name === '' || documentId === '') return;
  join(name, documentId);
});
elements.leaveButton.addEventListener('click', leave);

// For tests and for poking around from the console.
window.presenceDemo = {
  adapter,
  renderer,
  get client() {
    return session?.client ?? null;
  },
  get doc() {
    return session?.doc ?? null;
  },
};
