// The owner app as the box serves it over the overlay: log in (which unlocks a box that restarted),
// then the box's apps, mail settings, devices and certificates.
import { showSettings } from './settings.js';

const $ = (id) => document.getElementById(id);

function show(screen) {
  for (const section of document.querySelectorAll('main > section')) {
    section.hidden = section.id !== screen;
  }
}

class BoxError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

// Every call is JSON both ways; an answer that is not OK carries {"error": ...} in words for the owner.
async function call(method, path, body) {
  const options = { method, cache: 'no-store', headers: {} };
  if (body !== undefined) {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch (e) {
    throw new BoxError('Your box cannot be reached. Is this device connected to its private network (WireGuard)?', 0);
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new BoxError(answer.error || `Your box answered ${response.status}.`, response.status);
  }
  return answer;
}

function item(list, text, extra) {
  const li = document.createElement('li');
  const span = document.createElement('span');
  span.textContent = text;
  li.append(span);
  if (extra) li.append(extra);
  list.append(li);
  return li;
}

async function loadHome() {
  const box = await call('GET', '/v1/box');
  $('box-name').textContent = box.name;
  $('box-storage').textContent = box.storage === 'locked'
    ? 'Storage locked: log in again to unlock it.'
    : 'Storage encrypted and unlocked.';
  const apps = $('apps');
  apps.replaceChildren();
  for (const app of box.apps) {
    const state = document.createElement('span');
    state.textContent = app.state === 'healthy' ? 'running' : app.state;
    state.className = app.state === 'healthy' ? 'ok' : app.state === 'starting' ? 'muted' : 'error';
    item(apps, app.problem ? `${app.name}: ${app.problem}` : app.name, state);
  }
  if (!box.apps.length) item(apps, 'No apps installed yet.');
  showSettings($('mail-settings'), box.mail);
  const certificates = $('certificates');
  certificates.replaceChildren();
  for (const c of box.certificates) {
    item(certificates, `${c.host}: valid until ${new Date(c.notAfter).toLocaleDateString()}`);
  }
  if (!box.certificates.length) item(certificates, 'None yet: your box uses its own until it has them.');
  await loadDevices();
  show('home-screen');
}

async function loadDevices() {
  const { devices } = await call('GET', '/v1/devices');
  const list = $('devices');
  list.replaceChildren();
  for (const d of devices) {
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'secondary';
    remove.textContent = 'Remove';
    remove.setAttribute('aria-label', `Remove ${d.name}`);
    // A second tap confirms: removing the device in hand cuts this very connection.
    remove.addEventListener('click', async () => {
      if (!remove.dataset.armed) {
        remove.dataset.armed = 'yes';
        remove.textContent = d.thisDevice ? 'Tap again: this device' : 'Tap again to remove';
        return;
      }
      try {
        await call('DELETE', `/v1/devices/${encodeURIComponent(d.name)}`);
        await loadDevices();
      } catch (e) {
        $('device-error').textContent = e.message;
      }
    });
    item(list, `${d.name}${d.address ? ` (${d.address})` : ''}${d.thisDevice ? ', this device' : ''}`, remove);
  }
  if (!devices.length) item(list, 'No devices yet.');
}

async function start() {
  try {
    await loadHome();
  } catch (e) {
    if (e.status === 401) {
      show('login-screen');
      $('password').focus();
    } else {
      $('login-error').textContent = e.message;
      show('login-screen');
    }
  }
}

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const button = $('login-form').querySelector('button');
  button.disabled = true;
  $('login-error').textContent = '';
  try {
    const answer = await call('POST', '/v1/login', { password: $('password').value });
    $('password').value = '';
    await loadHome();
    if (answer.unlocked) $('box-storage').textContent = 'Storage unlocked: your apps are starting.';
  } catch (error) {
    $('login-error').textContent = error.message;
  } finally {
    button.disabled = false;
  }
});

$('device-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const name = $('device-name').value.trim().toLowerCase();
  $('device-error').textContent = '';
  try {
    const added = await call('POST', '/v1/devices', { name });
    $('device-name').value = '';
    if (!added.configuration) {
      $('device-error').textContent = added.message;
      await loadDevices();
      return;
    }
    $('device-added-title').textContent = `Connect ${added.name}`;
    $('device-qr').src = added.qr;
    $('device-download').href = URL.createObjectURL(new Blob([added.configuration], { type: 'text/plain' }));
    $('device-download').download = `hearth-${added.name}.conf`;
    $('device-added').hidden = false;
    await loadDevices();
  } catch (error) {
    $('device-error').textContent = error.message;
  }
});

$('logout').addEventListener('click', async () => {
  await call('POST', '/v1/logout', {}).catch(() => {});
  $('device-added').hidden = true;
  show('login-screen');
});

start();
