// The phone's end of pairing: the same derivation and sealing as the box's
// (registry-protocol: PairingCode, PairingKeys, PairingSeal), with WebCrypto.
// The pairing code never leaves this page: the registry sees only the channel
// name and sealed messages.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const SALT = 'hearth pairing v1';
const TO_BOX = 'to-box';
const TO_PHONE = 'to-phone';
const encode = (text) => new TextEncoder().encode(text);

export class CodeError extends Error {}
export class TamperedError extends Error {}
export class RelayError extends Error {
  constructor(message, status) { super(message); this.status = status; }
}

/** The 20 secret bytes of a code as typed or carried in a link; case, spaces and dashes do not matter. */
export function parseCode(text) {
  const clean = String(text).replace(/[\s-]/g, '').toUpperCase();
  if (clean.length !== 32 || [...clean].some((c) => !ALPHABET.includes(c))) {
    throw new CodeError('A pairing code is 32 letters and digits, like ABCD-EFGH-…. Check it against the card.');
  }
  const out = new Uint8Array(20);
  let buffer = 0; let bits = 0; let i = 0;
  for (const c of clean) {
    buffer = ((buffer << 5) | ALPHABET.indexOf(c)) & 0xffff;
    bits += 5;
    if (bits >= 8) { out[i++] = (buffer >>> (bits - 8)) & 0xff; bits -= 8; }
  }
  return out;
}

const hex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
  .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const fromB64url = (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));

function hkdf(label) {
  return { name: 'HKDF', hash: 'SHA-256', salt: encode(SALT), info: encode(label) };
}

/** The channel's name and the two directions' keys, as PairingKeys derives them. */
export async function pairingKeys(secret) {
  const ikm = await crypto.subtle.importKey('raw', secret, 'HKDF', false, ['deriveBits', 'deriveKey']);
  const channel = hex(new Uint8Array(await crypto.subtle.deriveBits(hkdf('channel'), ikm, 128)));
  const aes = { name: 'AES-GCM', length: 256 };
  const toBox = await crypto.subtle.deriveKey(hkdf('phone to box'), ikm, aes, false, ['encrypt']);
  const toPhone = await crypto.subtle.deriveKey(hkdf('box to phone'), ikm, aes, false, ['decrypt']);
  return { channel, toBox, toPhone };
}

function associated(channel, direction, seq) {
  return encode(`${SALT}\n${channel}\n${direction}\n${seq}`);
}

async function seal(keys, seq, message) {
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: nonce, additionalData: associated(keys.channel, TO_BOX, seq), tagLength: 128 },
    keys.toBox, encode(JSON.stringify(message)));
  return `v1.${seq}.${b64url(nonce)}.${b64url(sealed)}`;
}

async function open(keys, seq, text) {
  const parts = String(text).split('.');
  if (parts.length !== 4 || parts[0] !== 'v1' || parts[1] !== String(seq)) {
    throw new TamperedError(`message ${seq} from the box is not the one expected there`);
  }
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: fromB64url(parts[2]), additionalData: associated(keys.channel, TO_PHONE, seq), tagLength: 128 },
      keys.toPhone, fromB64url(parts[3]));
    return JSON.parse(new TextDecoder().decode(plain));
  } catch (e) {
    throw new TamperedError(`message ${seq} from the box failed authentication`);
  }
}

/**
 * A conversation with the box through the registry's relay. A message's sequence number is its
 * place in its direction, so the two ends agree on it after a reload of this page or a restart of
 * the box, and a message the relay added, dropped or moved fails to open.
 */
export class Pairing {
  constructor(keys) {
    this.keys = keys;
    this.base = `/v1/pairing/${keys.channel}`;
    this.sent = 0;
    this.received = 0;
    this.pending = [];
  }

  static async start(code) {
    const pairing = new Pairing(await pairingKeys(parseCode(code)));
    pairing.sent = (await pairing.relay('GET', `${TO_BOX}?after=0&wait=0`)).next;
    pairing.received = (await pairing.relay('GET', `${TO_PHONE}?after=0&wait=0`)).next;
    return pairing;
  }

  async relay(method, path, body) {
    let response;
    try {
      response = await fetch(`${this.base}/${path}`, { method, body, cache: 'no-store' });
    } catch (e) {
      throw new RelayError('The registry cannot be reached. Check your phone is online, then try again.', 0);
    }
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new RelayError(answer.error || `the registry answered ${response.status}`, response.status);
    }
    return answer;
  }

  async send(message) {
    const seq = this.sent + 1;
    await this.relay('POST', TO_BOX, await seal(this.keys, seq, message));
    this.sent = seq;
  }

  /** The box's next message, waiting for it up to {@code seconds}; null if none came. */
  async receive(seconds) {
    const deadline = Date.now() + seconds * 1000;
    while (this.pending.length === 0 && Date.now() < deadline) {
      const wait = Math.max(1, Math.min(20, Math.round((deadline - Date.now()) / 1000)));
      const answer = await this.relay('GET', `${TO_PHONE}?after=${this.received}&wait=${wait}`);
      for (const text of answer.messages) {
        this.pending.push(await open(this.keys, this.received + 1, text));
        this.received += 1;
      }
    }
    return this.pending.shift() || null;
  }
}
