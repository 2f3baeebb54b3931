/**
 * The binary client-server protocol (docs/DESIGN.md section 3), byte for byte compatible with the
 * course's C clients. Strings travel as latin1 "byte strings" (one UTF-16 code unit per byte), so
 * any key a job can write goes out exactly as it came in. Pure code: no I/O.
 */
import { assertNever } from './guards.js';

/** The op_code byte of the client protocol (not the store's batch ops: protocol/bus.ts `Op`). */
export const OpCode = {
  Connect: 1,
  Disconnect: 2,
  Subscribe: 3,
  Unsubscribe: 4,
} as const;
export type OpCode = (typeof OpCode)[keyof typeof OpCode];

/** A pipe path field: 40 bytes, NUL-padded; a 40-byte path fills it with no NUL. */
export const PIPE_FIELD_SIZE = 40;
/** A key or value field: 40 bytes and the terminating NUL. */
export const STRING_FIELD_SIZE = 41;

export const CONNECT_SIZE = 1 + 3 * PIPE_FIELD_SIZE; // 121
export const DISCONNECT_SIZE = 1;
export const KEY_REQUEST_SIZE = 1 + STRING_FIELD_SIZE; // 42
export const RESPONSE_SIZE = 2;
export const NOTIFICATION_SIZE = 2 * STRING_FIELD_SIZE; // 82

const CONNECT_REQ_OFFSET = 1;
const CONNECT_RESP_OFFSET = CONNECT_REQ_OFFSET + PIPE_FIELD_SIZE;
const CONNECT_NOTIF_OFFSET = CONNECT_RESP_OFFSET + PIPE_FIELD_SIZE;
const KEY_REQUEST_KEY_OFFSET = 1;
const NOTIFICATION_VALUE_OFFSET = STRING_FIELD_SIZE;

/** The value a notification carries when its key was deleted. */
export const DELETED_VALUE = 'DELETED';

/** 0 is success in every response, except SUBSCRIBE under `--compat=course` (see session). */
export const RESULT_OK = 0;
export const RESULT_ERROR = 1;

export type ConnectFrame = { kind: 'connect'; reqPipe: string; respPipe: string; notifPipe: string };
export type DisconnectFrame = { kind: 'disconnect' };
export type SubscribeFrame = { kind: 'subscribe'; key: string };
export type UnsubscribeFrame = { kind: 'unsubscribe'; key: string };
export type ResponseFrame = { kind: 'response'; op: OpCode; result: number };
export type NotificationFrame = { kind: 'notification'; key: string; value: string };

export type RequestFrame = DisconnectFrame | SubscribeFrame | UnsubscribeFrame;
export type Frame = ConnectFrame | RequestFrame | ResponseFrame | NotificationFrame;

/** Which FIFO the bytes come from: each carries its own frames. */
export type Channel = 'register' | 'request' | 'response' | 'notification';
export type FrameOf<C extends Channel> = C extends 'register'
  ? ConnectFrame
  : C extends 'request'
    ? RequestFrame
    : C extends 'response'
      ? ResponseFrame
      : NotificationFrame;

export type DecodeErrorCode = 'truncated' | 'unknown-op' | 'bad-string' | 'trailing-bytes';
/** `op` is set when the op code was understood, so a session can still answer it. */
export type DecodeError = { code: DecodeErrorCode; message: string; op?: OpCode };
export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: DecodeError };

function isOp(byte: number): byte is OpCode {
  return byte >= OpCode.Connect && byte <= OpCode.Unsubscribe;
}

/** The frame size an op code announces on a channel, or null for an op the channel never carries. */
export function frameSize(channel: Channel, opByte: number): number | null {
  switch (channel) {
    case 'register':
      return opByte === OpCode.Connect ? CONNECT_SIZE : null;
    case 'request':
      if (opByte === OpCode.Disconnect) return DISCONNECT_SIZE;
      if (opByte === OpCode.Subscribe || opByte === OpCode.Unsubscribe) return KEY_REQUEST_SIZE;
      return null;
    case 'response':
      return isOp(opByte) ? RESPONSE_SIZE : null;
    case 'notification':
      return NOTIFICATION_SIZE;
    default:
      return assertNever(channel);
  }
}

function fail<T>(code: DecodeErrorCode, message: string, op?: OpCode): DecodeResult<T> {
  return { ok: false, error: op === undefined ? { code, message } : { code, message, op } };
}

/** A NUL-terminated string of 1..40 bytes in a 41-byte field; bytes after the NUL are ignored, as C does. */
function readKeyField(bytes: Uint8Array, offset: number): string | null {
  const end = offset + STRING_FIELD_SIZE;
  const nul = bytes.indexOf(0, offset);
  if (nul === -1 || nul >= end || nul === offset) return null;
  return Buffer.from(bytes.buffer, bytes.byteOffset + offset, nul - offset).toString('latin1');
}

/** A path of 1..40 bytes in a 40-byte field: up to the first NUL, or all 40 bytes. */
function readPipeField(bytes: Uint8Array, offset: number): string | null {
  const end = offset + PIPE_FIELD_SIZE;
  let nul = bytes.indexOf(0, offset);
  if (nul === -1 || nul > end) nul = end;
  if (nul === offset) return null;
  return Buffer.from(bytes.buffer, bytes.byteOffset + offset, nul - offset).toString('latin1');
}

/** Decodes exactly one whole frame of `channel`; never throws. */
export function decode<C extends Channel>(channel: C, bytes: Uint8Array): DecodeResult<FrameOf<C>>;
export function decode(channel: Channel, bytes: Uint8Array): DecodeResult<Frame> {
  if (bytes.length === 0) return fail('truncated', 'empty frame');
  const opByte = bytes[0] ?? 0;
  const size = frameSize(channel, opByte);
  if (size === null) return fail('unknown-op', `op code ${opByte} is not valid on the ${channel} FIFO`);
  const op = channel === 'notification' ? undefined : (opByte as OpCode);
  if (bytes.length < size) return fail('truncated', `${bytes.length} of ${size} bytes`, op);
  if (bytes.length > size) return fail('trailing-bytes', `${bytes.length - size} bytes after the frame`, op);
  switch (channel) {
    case 'register': {
      const reqPipe = readPipeField(bytes, CONNECT_REQ_OFFSET);
      const respPipe = readPipeField(bytes, CONNECT_RESP_OFFSET);
      const notifPipe = readPipeField(bytes, CONNECT_NOTIF_OFFSET);
      if (reqPipe === null || respPipe === null || notifPipe === null) {
        return fail('bad-string', 'an empty pipe path', OpCode.Connect);
      }
      return { ok: true, value: { kind: 'connect', reqPipe, respPipe, notifPipe } };
    }
    case 'request': {
      if (opByte === OpCode.Disconnect) return { ok: true, value: { kind: 'disconnect' } };
      const key = readKeyField(bytes, KEY_REQUEST_KEY_OFFSET);
      if (key === null) return fail('bad-string', 'key is empty or not NUL-terminated within 41 bytes', op);
      return { ok: true, value: { kind: opByte === OpCode.Subscribe ? 'subscribe' : 'unsubscribe', key } };
    }
    case 'response':
      return { ok: true, value: { kind: 'response', op: opByte as OpCode, result: bytes[1] ?? 0 } };
    case 'notification': {
      const key = readKeyField(bytes, 0);
      const value = readKeyField(bytes, NOTIFICATION_VALUE_OFFSET);
      if (key === null || value === null) return fail('bad-string', 'key or value is empty or not NUL-terminated');
      return { ok: true, value: { kind: 'notification', key, value } };
    }
    default:
      return assertNever(channel);
  }
}

function writeString(buf: Buffer, offset: number, field: number, s: string, needsNul: boolean): void {
  const max = needsNul ? field - 1 : field;
  const length = Buffer.byteLength(s, 'latin1');
  if (length === 0 || length > max || s.includes('\0')) {
    throw new RangeError(`'${s}' must be 1..${max} bytes with no NUL`);
  }
  buf.write(s, offset, 'latin1');
}

/** Encodes a frame; throws RangeError on a string that does not fit (a bug in the caller). */
export function encode(frame: Frame): Buffer {
  switch (frame.kind) {
    case 'connect': {
      const buf = Buffer.alloc(CONNECT_SIZE);
      buf[0] = OpCode.Connect;
      writeString(buf, CONNECT_REQ_OFFSET, PIPE_FIELD_SIZE, frame.reqPipe, false);
      writeString(buf, CONNECT_RESP_OFFSET, PIPE_FIELD_SIZE, frame.respPipe, false);
      writeString(buf, CONNECT_NOTIF_OFFSET, PIPE_FIELD_SIZE, frame.notifPipe, false);
      return buf;
    }
    case 'disconnect':
      return Buffer.of(OpCode.Disconnect);
    case 'subscribe':
    case 'unsubscribe': {
      const buf = Buffer.alloc(KEY_REQUEST_SIZE);
      buf[0] = frame.kind === 'subscribe' ? OpCode.Subscribe : OpCode.Unsubscribe;
      writeString(buf, KEY_REQUEST_KEY_OFFSET, STRING_FIELD_SIZE, frame.key, true);
      return buf;
    }
    case 'response':
      return Buffer.of(frame.op, frame.result);
    case 'notification':
      return encodeNotification(frame.key, frame.value);
    default:
      return assertNever(frame);
  }
}

/** The hot path of every change to a subscribed key: one buffer shared by all subscribers. */
export function encodeNotification(key: string, value: string): Buffer {
  const buf = Buffer.alloc(NOTIFICATION_SIZE);
  writeString(buf, 0, STRING_FIELD_SIZE, key, true);
  writeString(buf, NOTIFICATION_VALUE_OFFSET, STRING_FIELD_SIZE, value, true);
  return buf;
}

/** Response frames are two bytes and few: allocate them once. */
const RESPONSES = new Map<number, Buffer>();
export function encodeResponse(op: OpCode, result: number): Buffer {
  const id = op * 256 + result;
  let buf = RESPONSES.get(id);
  if (buf === undefined) {
    buf = Buffer.of(op, result);
    RESPONSES.set(id, buf);
  }
  return buf;
}
