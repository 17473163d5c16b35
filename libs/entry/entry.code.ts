import { randomBytes, sign, verify, type KeyObject } from 'node:crypto';

/**
 * The entry code's binary layout (docs/formats/entry-code.md): what the app shows as a QR code and
 * the entry gate reads back. Binary rather than JSON so that the QR code stays small (about 150
 * characters for usual ids), base64url so that it survives any QR reader and any transport as text.
 *
 * Decoding never throws: every way a text can be wrong is a refusal with its reason, because the
 * text comes from anyone's phone.
 */

export const ENTRY_CODE_VERSION = 1;
/** No code is valid longer than this (store clock), ms. */
export const MAX_VALIDITY_MS = 30_000;
export const NONCE_BYTES = 16;
export const SIGNATURE_BYTES = 64;
/** Key ids are short names from the key configuration ("2025-06", "k7"). */
export const MAX_KEY_ID_LENGTH = 32;
/** Store and account ids follow the contracts' Id rule (at most 64 characters). */
export const MAX_ID_LENGTH = 64;
/**
 * Signed before the code's bytes: a signature made with the same key for anything else (another
 * message kind, a later layout) can never pass for an entry code.
 */
const SIGNING_CONTEXT = Buffer.from('walkout entry code\0', 'ascii');

const KEY_ID_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
const ID_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
const BASE64URL_PATTERN = /^[A-Za-z0-9_-]+$/;
/** 6 bytes of issued-at (ms) and 2 of validity (ms). */
const TIME_BYTES = 8;
const MAX_CODE_BYTES = 1 + 1 + MAX_KEY_ID_LENGTH + TIME_BYTES + NONCE_BYTES + 1 + MAX_ID_LENGTH + 1 + MAX_ID_LENGTH + SIGNATURE_BYTES;
/** base64url of the longest possible code; anything longer is refused before it is decoded. */
export const MAX_CODE_TEXT_LENGTH = Math.ceil((MAX_CODE_BYTES * 4) / 3);
/** issuedAt is an unsigned 48-bit integer: ms since the epoch until the year 10889. */
const MAX_ISSUED_AT_MS = 2 ** 48 - 1;

/** What a code says, once its signature is checked. */
export interface EntryCodeFields {
  readonly version: number;
  readonly keyId: string;
  readonly accountId: string;
  readonly storeId: string;
  /** Store clock, ms. */
  readonly issuedAtMs: number;
  /** The code is good from issuedAtMs up to (not including) issuedAtMs + validForMs. */
  readonly validForMs: number;
  /** 16 random bytes, lower-case hex: the code's single-use identity. */
  readonly nonce: string;
}

/** A code laid out, with the bytes its signature covers and the signature itself. */
export interface DecodedEntryCode {
  readonly fields: EntryCodeFields;
  readonly signed: Buffer;
  readonly signature: Buffer;
}

export type DecodeResult = { ok: true; code: DecodedEntryCode } | { ok: false; detail: string };

/** The fields to sign; version and nonce are the issuer's to set. */
export type EntryCodeRequest = Omit<EntryCodeFields, 'version' | 'nonce'> & { nonce?: string };

/** Lays out and signs a code. Throws on fields no code may carry: the issuer is our own code, not a phone. */
export function signEntryCode(request: EntryCodeRequest, privateKey: KeyObject): string {
  const problem = fieldProblem(request);
  if (problem) throw new RangeError(`entry code not signed: ${problem}`);
  const nonce = request.nonce ?? randomBytes(NONCE_BYTES).toString('hex');
  if (!/^[0-9a-f]+$/.test(nonce) || nonce.length !== NONCE_BYTES * 2) throw new RangeError(`entry code not signed: the nonce must be ${NONCE_BYTES} bytes of lower-case hex`);
  const body = layout({ ...request, version: ENTRY_CODE_VERSION, nonce });
  const signature = sign(null, Buffer.concat([SIGNING_CONTEXT, body]), privateKey);
  return Buffer.concat([body, signature]).toString('base64url');
}

/** True when the signature over the code's bytes is this key's. Never throws. */
export function signatureHolds(code: DecodedEntryCode, publicKey: KeyObject): boolean {
  try {
    return verify(null, Buffer.concat([SIGNING_CONTEXT, code.signed]), publicKey, code.signature);
  } catch {
    return false;
  }
}

/**
 * Reads a code's layout, refusing anything that is not exactly one: wrong alphabet, a base64url
 * text that is not the one canonical spelling of its bytes (else two texts would be the same code),
 * an unknown version, lengths that do not add up, bytes left over, ids outside the Id rule, a
 * validity of 0 or above MAX_VALIDITY_MS. It does not check the signature.
 */
export function decodeEntryCode(text: unknown): DecodeResult {
  if (typeof text !== 'string') return refused(`a code is text, not ${text === null ? 'null' : typeof text}`);
  if (text.length === 0) return refused('the code is empty');
  if (text.length > MAX_CODE_TEXT_LENGTH) return refused(`the code is ${text.length} characters; no code is longer than ${MAX_CODE_TEXT_LENGTH}`);
  if (!BASE64URL_PATTERN.test(text)) return refused('the code is not base64url text');
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) return refused('the code is not canonical base64url');
  return readLayout(bytes);
}

function readLayout(bytes: Buffer): DecodeResult {
  const reader = new ByteReader(bytes);
  const version = reader.u8();
  if (version === undefined) return refused('the code is empty');
  if (version !== ENTRY_CODE_VERSION) return refused(`unknown code version ${version}`);
  const keyId = reader.text(MAX_KEY_ID_LENGTH);
  if (keyId === undefined || !KEY_ID_PATTERN.test(keyId)) return refused('the key id is missing or not a key id');
  const issuedAtMs = reader.u48();
  const validForMs = reader.u16();
  const nonce = reader.read(NONCE_BYTES);
  if (issuedAtMs === undefined || validForMs === undefined || nonce === undefined) return refused('the code ends inside its times or nonce');
  const storeId = reader.text(MAX_ID_LENGTH);
  if (storeId === undefined || !ID_PATTERN.test(storeId)) return refused('the store id is missing or not an id');
  const accountId = reader.text(MAX_ID_LENGTH);
  if (accountId === undefined || !ID_PATTERN.test(accountId)) return refused('the account id is missing or not an id');
  const signedLength = reader.offset;
  const signature = reader.read(SIGNATURE_BYTES);
  if (signature === undefined) return refused('the signature is cut short');
  if (reader.remaining > 0) return refused(`${reader.remaining} bytes follow the signature`);
  const fields: EntryCodeFields = { version, keyId, accountId, storeId, issuedAtMs, validForMs, nonce: nonce.toString('hex') };
  const problem = fieldProblem(fields);
  if (problem) return refused(problem);
  return { ok: true, code: { fields, signed: bytes.subarray(0, signedLength), signature } };
}

/** What makes fields impossible in a code, or null. Shared by signing and reading, so the two agree. */
function fieldProblem(fields: Omit<EntryCodeFields, 'version' | 'nonce'>): string | null {
  if (!KEY_ID_PATTERN.test(fields.keyId) || fields.keyId.length > MAX_KEY_ID_LENGTH) return `key id "${fields.keyId}" is not 1 to ${MAX_KEY_ID_LENGTH} id characters`;
  if (!ID_PATTERN.test(fields.storeId) || fields.storeId.length > MAX_ID_LENGTH) return `store id "${fields.storeId}" is not an id`;
  if (!ID_PATTERN.test(fields.accountId) || fields.accountId.length > MAX_ID_LENGTH) return `account id "${fields.accountId}" is not an id`;
  if (!Number.isSafeInteger(fields.issuedAtMs) || fields.issuedAtMs < 0 || fields.issuedAtMs > MAX_ISSUED_AT_MS) return `issued at ${fields.issuedAtMs} is not a 48-bit store-clock time`;
  if (!Number.isInteger(fields.validForMs) || fields.validForMs < 1 || fields.validForMs > MAX_VALIDITY_MS) return `valid for ${fields.validForMs} ms; a code is valid 1 to ${MAX_VALIDITY_MS} ms`;
  return null;
}

function layout(fields: EntryCodeFields): Buffer {
  const text = (value: string) => {
    const bytes = Buffer.from(value, 'ascii');
    return Buffer.concat([Buffer.of(bytes.length), bytes]);
  };
  const times = Buffer.alloc(TIME_BYTES);
  times.writeUIntBE(fields.issuedAtMs, 0, 6);
  times.writeUInt16BE(fields.validForMs, 6);
  return Buffer.concat([Buffer.of(fields.version), text(fields.keyId), times, Buffer.from(fields.nonce, 'hex'), text(fields.storeId), text(fields.accountId)]);
}

const refused = (detail: string): DecodeResult => ({ ok: false, detail });

/** Reads fields off a buffer; every read past the end gives undefined instead of throwing. */
class ByteReader {
  offset = 0;
  constructor(private readonly buffer: Buffer) {}

  get remaining(): number {
    return this.buffer.length - this.offset;
  }

  u8(): number | undefined {
    return this.remaining >= 1 ? this.buffer[this.offset++] : undefined;
  }

  u16(): number | undefined {
    if (this.remaining < 2) return undefined;
    const value = this.buffer.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  u48(): number | undefined {
    if (this.remaining < 6) return undefined;
    const value = this.buffer.readUIntBE(this.offset, 6);
    this.offset += 6;
    return value;
  }

  read(count: number): Buffer | undefined {
    if (this.remaining < count) return undefined;
    const value = this.buffer.subarray(this.offset, this.offset + count);
    this.offset += count;
    return value;
  }

  /** A length byte (1..max), then that many ASCII bytes. */
  text(max: number): string | undefined {
    const length = this.u8();
    if (length === undefined || length < 1 || length > max) return undefined;
    const value = this.read(length);
    // Bytes above 0x7f are not ASCII: latin1 keeps them visible, and the id patterns refuse them.
    return value?.toString('latin1');
  }
}
