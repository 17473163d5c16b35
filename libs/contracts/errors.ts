/**
 * The one error catalogue. Every error the project raises on purpose has a code, a message template,
 * an HTTP status where it applies, and says whether retrying can help. README lists the same codes
 * (a test keeps the two in step).
 */
export const errorCatalogue = {
  CONFIG_INVALID: { status: 500, retriable: false, summary: 'Configuration or environment is invalid.' },
  CALIBRATION_INVALID: { status: 400, retriable: false, summary: 'A camera calibration file (KRTD, landmarks, tracks) is malformed (file and line given).' },
  STORE_INVALID: { status: 400, retriable: false, summary: 'A store description failed validation.' },
  SCENARIO_INVALID: { status: 400, retriable: false, summary: 'A simulator scenario failed validation.' },
  RECORDING_INVALID: { status: 400, retriable: false, summary: 'A recording file is malformed (file and line given).' },
  IMAGE_INVALID: { status: 400, retriable: false, summary: 'An image file is missing or cannot be decoded (file given).' },
  RECORDING_NOT_FOUND: { status: 404, retriable: false, summary: 'A recording folder or one of its files is missing.' },
  MESSAGE_INVALID: { status: 400, retriable: false, summary: 'A bus message failed its topic schema.' },
  HANDLER_FAILED: { status: 500, retriable: true, summary: 'A bus handler threw; the message will be redelivered.' },
  HANDLER_TIMEOUT: { status: 504, retriable: true, summary: 'A bus handler did not settle by its deadline; its signal was aborted and the attempt counts as failed.' },
  BUS_UNAVAILABLE: { status: 503, retriable: true, summary: 'The message bus cannot be reached.' },
  BUS_REJECTED: { status: 502, retriable: false, summary: 'The message bus refused a request (message too large, topic misconfigured, not authorised).' },
  BUS_CLOSED: { status: 503, retriable: false, summary: 'The bus, or one of its subscriptions, was closed; nothing more can go through it.' },
  TOPIC_UNKNOWN: { status: 400, retriable: false, summary: 'A topic is not in the topic registry the bus was built with.' },
  MODEL_UNAVAILABLE: { status: 503, retriable: false, summary: 'A model file or inference runtime cannot be loaded.' },
  DETECTOR_FAILED: { status: 500, retriable: true, summary: 'A model pass on a detector thread failed, or killed two detector threads in turn (each dead thread is replaced).' },
  MODEL_UNSUPPORTED: { status: 422, retriable: false, summary: 'A model uses operations the ONNX converter does not translate (every such op and its nodes listed).' },
  TOOL_MISSING: { status: 500, retriable: false, summary: 'An external tool (such as ffmpeg) cannot be found.' },
  TOOL_FAILED: { status: 500, retriable: true, summary: 'An external tool (such as ffmpeg) was found but failed; its last output is given.' },
  OUTPUT_REFUSED: { status: 409, retriable: false, summary: 'A command will not write where it was told: the target is or holds one of its inputs or the folder it runs in, or holds something it does not make (--force replaces that).' },
  DATABASE_UNAVAILABLE: { status: 503, retriable: true, summary: 'The database cannot be reached (server down, connection lost); the work is tried again.' },
  DATABASE_FAILED: { status: 500, retriable: false, summary: 'The database refused or could not hold a value (a bigint beyond what a number holds exactly, a broken constraint).' },
  MIGRATION_INVALID: { status: 500, retriable: false, summary: 'A schema migration is misnamed, failed, or was edited after it was applied.' },
  PAYMENT_DECLINED: { status: 402, retriable: false, summary: 'The card processor declined (a definitive answer): the visit is in payment failed and retried by policy with a new authorisation.' },
  AUTHORISATION_EXPIRED: { status: 402, retriable: false, summary: 'A hold was captured after the card processor let it go (7 days for card-present): nothing was taken; authorise anew and capture that.' },
  PAYMENT_TIMEOUT: { status: 504, retriable: true, summary: 'The card processor did not answer in time: the payment may or may not have happened; retry with the same idempotency key.' },
  PAYMENT_UNAVAILABLE: { status: 503, retriable: true, summary: 'The card processor failed before doing anything (transient); retry with the same idempotency key.' },
  PAYMENT_REFUSED: { status: 422, retriable: false, summary: 'The card processor refused a request as wrong: a capture above its hold, a refund above what was captured, an unknown authorisation.' },
  IDEMPOTENCY_CONFLICT: { status: 409, retriable: false, summary: 'An idempotency key was used again with a different request.' },
  RECEIPT_NOT_FOUND: { status: 404, retriable: false, summary: 'No such receipt, or no such line on it.' },
  UNAUTHENTICATED: { status: 401, retriable: false, summary: 'A request to the shopper app carries no bearer token, or one that is not an account\'s.' },
  ACCOUNT_BLOCKED: { status: 403, retriable: false, summary: 'The account is blocked: no entry codes, refused at the gate.' },
  UNPAID_VISIT: { status: 402, retriable: false, summary: 'The account has a visit whose payment failed: no entry code until it is settled.' },
  RATE_LIMITED: { status: 429, retriable: true, summary: 'Too many requests of one account in a short time; Retry-After says when to ask again.' },
  REQUEST_INVALID: { status: 400, retriable: false, summary: 'An API request failed its schema (which field, and why).' },
  ROUTE_NOT_FOUND: { status: 404, retriable: false, summary: 'No API route has that method and path.' },
  VISIT_NOT_FOUND: { status: 404, retriable: false, summary: 'No such visit of this account.' },
  USAGE: { status: 400, retriable: false, summary: 'A command was called with wrong arguments.' },
} as const satisfies Record<string, { status: number; retriable: boolean; summary: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

export class WalkoutError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retriable: boolean;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'WalkoutError';
    this.code = code;
    this.status = errorCatalogue[code].status;
    this.retriable = errorCatalogue[code].retriable;
    this.details = options.details;
  }
}
