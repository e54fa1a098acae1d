// The owner app as the box serves it over the overlay: log in (which unlocks a box that restarted),
// then the box's apps (and the catalogs' others to install), mail settings, devices and certificates.
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

// An app's row: its icon, its name with a line under it, and what may be done with it.
function appItem(list, app, line, action) {
  const li = document.createElement('li');
  li.className = 'app';
  // An app without an icon (one installed from a manifest during development) gets its initial.
  const icon = document.createElement(app.icon ? 'img' : 'span');
  icon.className = 'icon';
  if (app.icon) {
    icon.alt = '';
    icon.src = app.icon;
  } else {
    icon.textContent = app.name.charAt(0).toUpperCase();
    icon.setAttribute('aria-hidden', 'true');
  }
  const text = document.createElement('span');
  const name = document.createElement('strong');
  name.textContent = app.name;
  const under = document.createElement('small');
  under.textContent = line;
  text.append(name, under);
  li.append(icon, text);
  if (action) li.append(action);
  list.append(li);
  return li;
}

function button(label, ariaLabel) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.setAttribute('aria-label', ariaLabel);
  return b;
}

let refreshing;
// The app just installed, followed until it runs or fails (its containers are created, then start):
// { name, until }.
let installing;

// Installed apps (with their health and a two-tap Remove) and the catalogs' other apps (one tap: Install).
async function loadApps(box) {
  const { apps: offered, problems, sources } = await call('GET', '/v1/catalog');
  const byName = new Map(offered.map((a) => [a.name, a]));
  const apps = $('apps');
  apps.replaceChildren();
  for (const app of box.apps) {
    const listed = byName.get(app.name) || {};
    const state = app.state === 'healthy' ? 'running' : app.state;
    const update = listed.newer ? `, ${listed.version} available` : '';
    const remove = button('Remove', `Remove ${app.name}`);
    remove.className = 'secondary';
    // A second tap confirms: removing an app deletes its data.
    remove.addEventListener('click', async () => {
      if (!remove.dataset.armed) {
        remove.dataset.armed = 'yes';
        remove.textContent = 'Tap again: its data goes too';
        return;
      }
      remove.disabled = true;
      remove.textContent = 'Removing…';
      try {
        await call('DELETE', `/v1/apps/${encodeURIComponent(app.name)}`);
      } catch (e) {
        $('apps-error').textContent = e.message;
      }
      await loadHome();
    });
    const row = appItem(apps, { ...listed, name: app.name }, app.problem ? `${state}: ${app.problem}`
      : `${app.version}, ${state}${update}`, remove);
    row.dataset.state = app.state;
    row.dataset.version = app.version;
    if (listed.newer) {
      // The box copies the app's data aside first, and puts it back with the old version if the new one fails.
      const upgrade = button(`Update to ${listed.version}`, `Update ${app.name} to ${listed.version}`);
      upgrade.addEventListener('click', async () => {
        upgrade.disabled = true;
        remove.disabled = true;
        upgrade.textContent = 'Updating…';
        $('apps-error').textContent = '';
        try {
          await call('POST', `/v1/apps/${encodeURIComponent(app.name)}/upgrade`, {});
        } catch (e) {
          $('apps-error').textContent = e.message;
        }
        await loadHome();
      });
      row.insertBefore(upgrade, remove);
    }
  }
  if (!box.apps.length) item(apps, 'No apps installed yet.');
  const installed = new Set(box.apps.map((a) => a.name));
  const catalog = $('catalog');
  catalog.replaceChildren();
  for (const app of offered.filter((a) => !installed.has(a.name))) {
    const install = button('Install', `Install ${app.name}`);
    install.addEventListener('click', async () => {
      install.disabled = true;
      install.textContent = 'Installing…';
      $('apps-error').textContent = '';
      try {
        await call('POST', '/v1/apps', { name: app.name });
        installing = { name: app.name, until: Date.now() + 180000 };
      } catch (e) {
        $('apps-error').textContent = e.message;
      }
      await loadHome();
    });
    appItem(catalog, app, `${app.version}: ${app.description}`, install);
  }
  for (const p of problems) item(catalog, `Catalog ${p}`);
  if (!sources) item(catalog, 'No app catalog is set up on this box.');
  else if (!catalog.children.length) item(catalog, 'Every app of your catalogs is installed.');
  // While an app starts (or the one just installed is not listed yet), look again every two seconds.
  const followed = installing && box.apps.find((a) => a.name === installing.name);
  if (installing && (Date.now() > installing.until || ['healthy', 'failing'].includes(followed?.state))) installing = undefined;
  clearTimeout(refreshing);
  if (installing || box.apps.some((a) => a.state === 'starting')) {
    refreshing = setTimeout(() => loadHome().catch(() => {}), 2000);
  }
}

async function loadHome() {
  const box = await call('GET', '/v1/box');
  $('box-name').textContent = box.name;
  $('box-storage').textContent = box.storage === 'locked'
    ? 'Storage locked: log in again to unlock it.'
    : 'Storage encrypted and unlocked.';
  await loadApps(box);
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
