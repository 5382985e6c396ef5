/**
 * Every failure a caller can act on is a {@link SessionStoreError} with a stable `code`.
 * Messages name the file and the next step, and never quote a transcript's content:
 * transcripts hold tool output, and tool output holds secrets.
 */

/** The stable error codes. Compare `err.code`, never the message. */
export const ErrorCodes = {
  /** A session id outside the documented allowlist; nothing was touched. */
  INVALID_ID: 'ERR_INVALID_ID',
  /** An option of `openStore` or of a call is malformed. */
  INVALID_OPTION: 'ERR_INVALID_OPTION',
  /** An entry failed validation against the store's schema; nothing was buffered. */
  INVALID_ENTRY: 'ERR_INVALID_ENTRY',
  /** An entry is larger than `maxEntryBytes`; nothing was buffered. */
  ENTRY_TOO_LARGE: 'ERR_ENTRY_TOO_LARGE',
  /** No session with that id. */
  SESSION_NOT_FOUND: 'ERR_SESSION_NOT_FOUND',
  /** An id prefix matches more than one session (`resolveId`); the message lists candidates. */
  AMBIGUOUS_ID: 'ERR_AMBIGUOUS_ID',
  /** `create` with an id that already exists (in this process or any other). */
  SESSION_EXISTS: 'ERR_SESSION_EXISTS',
  /** The session file is a symlink, hard link, FIFO, device or directory: refused, not followed. */
  UNSAFE_FILE: 'ERR_UNSAFE_FILE',
  /** The session was written by a newer sessionlog: it is read, never written. */
  UNSUPPORTED_VERSION: 'ERR_UNSUPPORTED_VERSION',
  /** The store (or a resource it owns) was closed. */
  CLOSED: 'ERR_CLOSED',
  /** A lock is held by another process. */
  LOCKED: 'ERR_LOCKED',
  /** A file-system call failed; `cause` holds the errno error. */
  IO: 'ERR_IO',
  /** The database server cannot be reached, refused the connection or went away mid-call; retry. */
  UNAVAILABLE: 'ERR_UNAVAILABLE',
  /** The database server refused the credentials (wrong password, no such role, not permitted). */
  AUTH: 'ERR_AUTH',
  /** Not an artifact ref (`sha256:` and 64 lowercase hex digits): refused before any path is built. */
  INVALID_REF: 'ERR_INVALID_REF',
  /** A vector that is not numbers, holds NaN or an infinite value, or is all zeros: nothing was stored. */
  INVALID_VECTOR: 'ERR_INVALID_VECTOR',
  /** A vector whose length is not the store's dimension (one embedding model per store): nothing was stored. */
  DIMENSION_MISMATCH: 'ERR_DIMENSION_MISMATCH',
} as const;

/** One of the values of {@link ErrorCodes}. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Options of the {@link SessionStoreError} constructor. */
export interface SessionStoreErrorOptions {
  /** The underlying error, usually an errno error from `node:fs`. */
  readonly cause?: unknown;
  /** The file the error is about, when there is one. */
  readonly path?: string;
}

/**
 * The one error class sessionlog throws for failures a caller can act on.
 *
 * @example
 * ```ts
 * try { await store.create({ id: 'a' }); }
 * catch (err) { if (err instanceof SessionStoreError && err.code === 'ERR_SESSION_EXISTS') … }
 * ```
 */
export class SessionStoreError extends Error {
  /** The stable code; see {@link ErrorCodes}. */
  readonly code: ErrorCode;
  /** The file the error is about, when there is one. */
  readonly path: string | undefined;

  constructor(code: ErrorCode, message: string, options: SessionStoreErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SessionStoreError';
    this.code = code;
    this.path = options.path;
  }
}

/** The errno code of a Node fs error, or undefined. */
export function errnoOf(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const { code } = err;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

const NEXT_STEP: Readonly<Record<string, string>> = {
  ENOSPC: 'free disk space, then call flush() to retry; the entries are still buffered',
  EDQUOT: 'free quota, then call flush() to retry; the entries are still buffered',
  EFBIG: 'the file-size limit (ulimit -f) was reached; raise it, then call flush() to retry',
  EIO: 'the disk reported an I/O error; check it (dmesg), then call flush() to retry',
  EACCES: 'check the ownership and mode of the store folder and its files',
  EPERM: 'check the ownership and mode of the store folder and its files',
  EROFS: 'the file system is read-only; open the store on a writable folder',
  EMFILE: 'too many open files; raise the limit (ulimit -n) or open fewer stores',
  ENFILE: 'the system ran out of file handles; retry later',
  ENOENT: 'the store folder or file disappeared; check that it was not moved',
};

/** Wraps an fs error in an `ERR_IO` {@link SessionStoreError} naming the file and the next step. */
export function ioError(action: string, path: string, cause: unknown): SessionStoreError {
  const errno = errnoOf(cause) ?? 'unknown error';
  const next = NEXT_STEP[errno] ?? 'check the file and the disk, then retry';
  return new SessionStoreError('ERR_IO', `Could not ${action} ${path} (${errno}): ${next}.`, {
    cause,
    path,
  });
}

/** `promise`'s value, or undefined when it rejects with ERR_SESSION_NOT_FOUND (`get` of an unknown id). */
export async function unlessNotFound<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (err) {
    if (err instanceof SessionStoreError && err.code === 'ERR_SESSION_NOT_FOUND') return undefined;
    throw err;
  }
}
