import { WalkoutError, type GateCodePresented, type GateEntryRefused, type GateQrScanned, type StoreIndex, type topics } from '../../libs/contracts/index.ts';
import { createOutbox, type Bus, type Delivery, type Subscription } from '../../libs/bus/index.ts';
import type { EntryVerdict, EntryVerifier } from '../../libs/entry/entry.verifier.ts';
import type { EntryCodeFields } from '../../libs/entry/entry.code.ts';
import type { Logger } from '../../libs/log/logger.ts';

/**
 * The gate's check of entry codes: `gate.code-presented` (the text an entry gate read off a phone)
 * in; the verified `gate.qr-scanned` out for a code that passes, `gate.entry-refused` with the
 * reason for one that does not. The binder reads only `gate.qr-scanned`, so a refused code binds
 * nobody: whoever walks through on it is someone who came in without a scan (tailgating).
 *
 * Every output is named after the reading (`<reading>/scan`, `<reading>/refused`) and the visit
 * after the code's nonce, and the nonce is claimed by the reading, so a reading delivered twice
 * (at-least-once) gives the same verdict and the same messages, which consumers drop by id; a
 * second reading of the same code is refused as used. Validity is judged at the reading's own time
 * (`ts`, store clock), so a redelivery minutes later is not refused as expired.
 *
 * Stateless apart from the nonce store, so it runs in a group of its own (`gate-entry`): readings
 * are checked while the binder works, and several members may share the gates.
 */

export const GATE_ENTRY_GROUP = 'gate-entry';

type EntryOutput = { topic: 'gate.qr-scanned'; message: GateQrScanned } | { topic: 'gate.entry-refused'; message: GateEntryRefused };

export interface EntryCheck {
  start(): Promise<void>;
  stop(): Promise<void>;
  stats(): { admitted: number; refused: number };
  publishedByTopic(): Record<string, number>;
}

export function createEntryCheck(deps: {
  index: StoreIndex;
  bus: Pick<Bus<typeof topics>, 'publish' | 'subscribe'>;
  logger: Logger;
  verifier: EntryVerifier;
}): EntryCheck {
  const { index, bus, logger, verifier } = deps;
  const counts = { admitted: 0, refused: 0 };
  const outbox = createOutbox<EntryOutput>({
    bus,
    logger,
    failureMessage: 'gate service could not publish an entry verdict; the reading stays uncommitted and comes again',
  });
  let subscription: Subscription | undefined;

  const handle = async (reading: GateCodePresented) => {
    if (reading.storeId !== index.store.id)
      throw new WalkoutError('MESSAGE_INVALID', `gate.code-presented ${reading.eventId} is from store ${reading.storeId}; this gate service checks codes of ${index.store.id}`);
    const verdict = await verifier.admit(reading.code, { claimant: reading.eventId, atMs: reading.ts });
    if (verdict.admitted) counts.admitted++;
    else {
      counts.refused++;
      logger.info('entry code refused', { gateId: reading.gateId, reading: reading.eventId, reason: verdict.reason, detail: verdict.detail });
    }
    outbox.push(verdictMessage(reading, verdict));
    await outbox.publish();
  };

  return {
    async start() {
      subscription = await bus.subscribe({
        group: GATE_ENTRY_GROUP,
        topics: ['gate.code-presented'],
        handle: (delivery) => handle((delivery as Delivery<typeof topics, 'gate.code-presented'>).message),
      });
    },
    async stop() {
      await subscription?.close();
      subscription = undefined;
    },
    stats: () => ({ ...counts }),
    publishedByTopic: () => outbox.publishedByTopic(),
  };
}

/** The visit a code opens: named after its nonce, so every reading and redelivery of it names the same visit. */
export const visitIdOfCode = (code: EntryCodeFields) => `v-${code.nonce}`;

function verdictMessage(reading: GateCodePresented, verdict: EntryVerdict): EntryOutput {
  const base = { schemaVersion: 1 as const, storeId: reading.storeId, ts: reading.ts, gateId: reading.gateId };
  if (verdict.admitted)
    return {
      topic: 'gate.qr-scanned',
      message: {
        ...base,
        eventId: `${reading.eventId}/scan`,
        visitId: visitIdOfCode(verdict.code),
        accountId: verdict.code.accountId,
        partySize: reading.partySize,
        codeEventId: reading.eventId,
      },
    };
  return {
    topic: 'gate.entry-refused',
    message: {
      ...base,
      eventId: `${reading.eventId}/refused`,
      codeEventId: reading.eventId,
      reason: verdict.reason,
      detail: verdict.detail,
      ...(verdict.code ? { accountId: verdict.code.accountId } : {}),
    },
  };
}
