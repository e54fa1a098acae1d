// The pairing journey: code → connect → name → password → the box sets itself up → done.
import { CodeError, Pairing, RelayError, TamperedError, parseCode } from './pairing.js';
import { showSettings } from './settings.js';

const $ = (id) => document.getElementById(id);
const CODE_KEY = 'hearth-pairing-code';
let pairing = null;
let zone = '';

function show(screen) {
  for (const section of document.querySelectorAll('main > section')) {
    section.hidden = section.id !== screen;
  }
  const heading = $(screen).querySelector('h1');
  heading.tabIndex = -1;
  heading.focus();
}

function explain(e) {
  if (e instanceof TamperedError) {
    return 'A message between your phone and your box was changed on its way, so nothing was done with it.'
      + ' Try again; if this happens again, something between you and the registry is tampering with your connection.';
  }
  return e instanceof RelayError || e instanceof CodeError ? e.message : `Something went wrong: ${e.message}`;
}

// The code arrives in the link's fragment, which browsers never send to a server; it is kept for
// this tab only (a reload continues) and taken out of the address bar and history at once.
function codeFromLink() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const code = fragment.get('code');
  if (code) {
    sessionStorage.setItem(CODE_KEY, code);
    history.replaceState(null, '', location.pathname);
  }
  return sessionStorage.getItem(CODE_KEY);
}

function askForCode(error) {
  show('code-screen');
  $('code-error').textContent = error || '';
  $('code').focus();
}

async function connect(code) {
  show('connecting-screen');
  $('connect-error').textContent = '';
  $('connect-retry').hidden = true;
  try {
    parseCode(code);
    pairing = await Pairing.start(code);
    await pairing.send({ type: 'hello' });
    const reply = await pairing.receive(45);
    if (!reply) {
      throw new RelayError('Your box did not answer. Check that it is switched on and connected to the internet.', 0);
    }
    if (reply.type !== 'hello') {
      throw new RelayError(reply.message || 'Your box answered something unexpected.', 0);
    }
    zone = reply.zone;
    for (const z of document.querySelectorAll('.zone')) z.textContent = zone;
    if (reply.name) {
      pairAgain(reply.name);
      return;
    }
    show('name-screen');
    $('name').focus();
  } catch (e) {
    if (e instanceof CodeError || e.status === 404 || e.status === 410) {
      sessionStorage.removeItem(CODE_KEY);
      askForCode(explain(e));
    } else {
      $('connect-error').textContent = explain(e);
      $('connect-retry').hidden = false;
    }
  }
}

// Availability, asked live as the owner types (the registry's own rules and answer).
let lookup = 0;
async function checkName() {
  const name = $('name').value.trim().toLowerCase();
  const status = $('name-status');
  const submit = $('name-form').querySelector('button');
  submit.disabled = true;
  status.className = '';
  const mine = ++lookup;
  if (!name) { status.textContent = ''; return; }
  await new Promise((r) => setTimeout(r, 250));
  if (mine !== lookup) return;
  try {
    const response = await fetch(`/v1/names/${encodeURIComponent(name)}`, { cache: 'no-store' });
    const answer = await response.json();
    if (mine !== lookup) return;
    if (!response.ok) {
      status.textContent = answer.error;
      status.className = 'error';
    } else if (answer.available) {
      status.textContent = `${name}.${zone} is available`;
      status.className = 'ok';
      submit.disabled = false;
    } else {
      status.textContent = answer.reason === 'taken' ? `${name}.${zone} is taken; try another name` : answer.reason;
      status.className = 'error';
    }
  } catch (e) {
    status.textContent = 'The registry cannot be reached. Check your phone is online.';
    status.className = 'error';
  }
}

// A box paired before (a new code, for a new phone): it keeps its name, and takes only its own password.
let again = false;
function pairAgain(name) {
  again = true;
  $('name').value = name;
  $('password-title').textContent = `Connect this phone to ${name}.${zone}`;
  $('password-why').textContent = 'Your box is set up already. Enter its password to connect this phone; a phone'
    + ' connected by pairing before stops reaching it.';
  $('password').autocomplete = 'current-password';
  $('password-again-field').hidden = true;
  $('password-form').querySelector('button').textContent = 'Connect this phone';
  show('password-screen');
  $('password').focus();
}

function checkPassword() {
  const password = $('password').value;
  if (again) return password ? '' : 'Enter your box\'s password.';
  if (password.length < 10) return 'Use at least 10 characters.';
  if (password !== $('password-again').value) return 'The two passwords differ.';
  if (password.toLowerCase().includes($('name').value.trim().toLowerCase())) return 'Do not use your name in it.';
  return '';
}

function progress(text, finished) {
  const list = $('progress');
  const last = list.lastElementChild;
  if (last && !last.classList.contains('finished')) last.classList.add('finished');
  const item = document.createElement('li');
  item.textContent = text;
  if (finished) item.classList.add('finished');
  list.append(item);
}

async function setUp() {
  show('working-screen');
  $('progress').replaceChildren();
  $('working-error').textContent = '';
  try {
    await pairing.send({ type: 'setup', name: $('name').value.trim().toLowerCase(), password: $('password').value });
    for (;;) {
      const message = await pairing.receive(300);
      if (!message) throw new RelayError('Your box stopped answering. Check that it is on, then try again.', 0);
      if (message.type === 'progress') {
        progress(message.text, false);
      } else if (message.type === 'error') {
        const back = message.field === 'name' ? 'name-screen' : message.field === 'password' ? 'password-screen' : null;
        if (back) {
          show(back);
          $(back === 'name-screen' ? 'name-status' : 'password-error').textContent = message.message;
          $(back === 'name-screen' ? 'name-status' : 'password-error').className = 'error';
        } else {
          $('working-error').textContent = message.message;
        }
        return;
      } else if (message.type === 'done') {
        progress('Done', true);
        finish(message);
        return;
      }
    }
  } catch (e) {
    $('working-error').textContent = explain(e);
  }
}

function finish(done) {
  sessionStorage.removeItem(CODE_KEY);
  $('done-address').textContent = done.address;
  $('wireguard-qr').src = done.wireguardQr;
  const file = new Blob([done.wireguard], { type: 'text/plain' });
  $('wireguard-download').href = URL.createObjectURL(file);
  showSettings($('mail-settings'), done.mailSettings);
  if (done.ownerApp) {
    $('owner-app-link').href = done.ownerApp;
    $('owner-app-link').textContent = done.ownerApp;
    $('owner-app').hidden = false;
  }
  show('done-screen');
}

$('code-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const code = $('code').value;
  try {
    parseCode(code);
  } catch (error) {
    $('code-error').textContent = explain(error);
    return;
  }
  sessionStorage.setItem(CODE_KEY, code);
  connect(code);
});
$('connect-retry').addEventListener('click', () => connect(sessionStorage.getItem(CODE_KEY)));
$('name').addEventListener('input', checkName);
$('name-form').addEventListener('submit', (e) => {
  e.preventDefault();
  if (!$('name-form').querySelector('button').disabled) show('password-screen');
});
$('password-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const problem = checkPassword();
  $('password-error').textContent = problem;
  if (!problem) setUp();
});

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js').catch(() => {});
}
const code = codeFromLink();
if (code) connect(code); else askForCode();
