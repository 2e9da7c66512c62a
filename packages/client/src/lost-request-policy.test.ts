import { describe, expect, it } from 'vitest';
import { isResend, lostRequestFate, queuedRequestFate } from './lost-request-policy.js';
import type { ConnectionLoss, LostRequestFacts, LostRequestFate, QueuedRequestFacts, QueuedRequestFate } from './lost-request-policy.js';

/** A written, retryable GET with budget left, first unanswered on a fresh connection closed by the server. */
const BASE: LostRequestFacts = {
  settled: false,
  headHandedOver: false,
  written: true,
  afterAnnouncedClose: false,
  connected: true,
  retryable: true,
  attemptsLeft: true,
  firstUnansweredOnReused: false,
  raced: false,
  loss: 'closed',
};

const LOSSES: readonly ConnectionLoss[] = ['closed', 'error', 'timeout', 'aborted', 'connect-failed'];

describe('the fate of a request whose connection was lost', () => {
  const rows: [rule: string, facts: Partial<LostRequestFacts>, fate: LostRequestFate][] = [
    ['1. settled already (aborted): ignored', { settled: true }, 'ignore'],
    ['1. settled already, even with a head handed over: ignored', { settled: true, headHandedOver: true }, 'ignore'],
    ['2. head handed over: the body fails', { headHandedOver: true }, 'fail-body'],
    ['2. head handed over, not retryable: the body fails', { headHandedOver: true, retryable: false }, 'fail-body'],
    ['2. head handed over, after the announced close cannot happen but still fails the body', { headHandedOver: true, afterAnnouncedClose: true }, 'fail-body'],
    ['3. never written, connection closed: re-sent free', { written: false }, 'resend-unprocessed'],
    ['3. never written, connection reset: re-sent free', { written: false, loss: 'error' }, 'resend-unprocessed'],
    ['3. never written, not retryable (a POST waiting for the handshake): re-sent free', { written: false, retryable: false, connected: false }, 'resend-unprocessed'],
    ['3. never written, budget spent: re-sent free', { written: false, attemptsLeft: false }, 'resend-unprocessed'],
    ['3. never written, another request aborted: re-sent free', { written: false, loss: 'aborted' }, 'resend-unprocessed'],
    ['3. written after the announced close: re-sent free', { afterAnnouncedClose: true }, 'resend-unprocessed'],
    ['3. written after the announced close, a POST: re-sent free', { afterAnnouncedClose: true, retryable: false }, 'resend-unprocessed'],
    ['3. written after the announced close, budget spent: re-sent free', { afterAnnouncedClose: true, attemptsLeft: false }, 'resend-unprocessed'],
    ['4. never written, the connection failed to connect: fails, not processed', { written: false, connected: false, loss: 'connect-failed' }, 'fail-not-connected'],
    ['5. written on a connection that never connected: fails like a connect failure', { connected: false, loss: 'connect-failed' }, 'fail-not-connected'],
    ['6. written, not retryable: fails, may have been processed', { retryable: false }, 'fail-may-have-been-processed'],
    ['6. written, not retryable, lost to another abort: fails', { retryable: false, loss: 'aborted' }, 'fail-may-have-been-processed'],
    ['6. written, not retryable, first on a reused connection: fails', { retryable: false, firstUnansweredOnReused: true }, 'fail-may-have-been-processed'],
    ['7. another request aborted: re-sent free', { loss: 'aborted' }, 'resend-after-abort'],
    ['7. another request aborted, budget spent: re-sent free', { loss: 'aborted', attemptsLeft: false }, 'resend-after-abort'],
    ['7. another request aborted, raced before: re-sent free', { loss: 'aborted', raced: true, firstUnansweredOnReused: true }, 'resend-after-abort'],
    ['8. first unanswered on a reused connection, server closed: the race, re-sent free', { firstUnansweredOnReused: true }, 'resend-race'],
    ['8. first unanswered on a reused connection, reset: the race, re-sent free', { firstUnansweredOnReused: true, loss: 'error' }, 'resend-race'],
    ['8. the race, budget spent: still re-sent free once', { firstUnansweredOnReused: true, attemptsLeft: false }, 'resend-race'],
    ['8. the race lost twice: the second time spends an attempt', { firstUnansweredOnReused: true, raced: true }, 'retry'],
    ['8. the race lost twice, budget spent: fails', { firstUnansweredOnReused: true, raced: true, attemptsLeft: false }, 'fail-may-have-been-processed'],
    ['8. first on a reused connection, a timeout is no race: spends an attempt', { firstUnansweredOnReused: true, loss: 'timeout' }, 'retry'],
    ['9. pipelined behind another, connection closed: spends an attempt', {}, 'retry'],
    ['9. reset: spends an attempt', { loss: 'error' }, 'retry'],
    ['9. timeout (of the request ahead of it): spends an attempt', { loss: 'timeout' }, 'retry'],
    ['10. budget spent: fails, may have been processed', { attemptsLeft: false }, 'fail-may-have-been-processed'],
    ['10. budget spent, timeout: fails', { attemptsLeft: false, loss: 'timeout' }, 'fail-may-have-been-processed'],
  ];

  it.each(rows)('%s', (_rule, facts, fate) => {
    expect(lostRequestFate({ ...BASE, ...facts })).toBe(fate);
  });

  /** Every combination of the facts. */
  function* everyCase(): Generator<LostRequestFacts> {
    const flags = ['settled', 'headHandedOver', 'written', 'afterAnnouncedClose', 'connected', 'retryable', 'attemptsLeft', 'firstUnansweredOnReused', 'raced'] as const;
    for (let bits = 0; bits < 1 << flags.length; bits++) {
      for (const loss of LOSSES) {
        const facts: Record<string, unknown> = { loss };
        flags.forEach((f, i) => (facts[f] = (bits & (1 << i)) !== 0));
        yield facts as unknown as LostRequestFacts;
      }
    }
  }

  it('nothing is re-sent once its head was handed over, in any combination', () => {
    for (const facts of everyCase()) if (facts.headHandedOver) expect(isResend(lostRequestFate(facts)), JSON.stringify(facts)).toBe(false);
  });

  it('a request the server may have processed is re-sent only when retryable, in any combination', () => {
    for (const facts of everyCase()) {
      const processedMaybe = facts.written && !facts.afterAnnouncedClose;
      if (processedMaybe && !facts.retryable) expect(isResend(lostRequestFate(facts)), JSON.stringify(facts)).toBe(false);
    }
  });

  it('only a retry spends the budget, and only with budget left, in any combination', () => {
    for (const facts of everyCase()) if (lostRequestFate(facts) === 'retry') expect(facts.attemptsLeft, JSON.stringify(facts)).toBe(true);
  });

  it('a free re-send of a request the server may have processed happens at most once per race, never after a timeout', () => {
    for (const facts of everyCase()) {
      if (lostRequestFate(facts) !== 'resend-race') continue;
      expect(facts.raced, JSON.stringify(facts)).toBe(false);
      expect(facts.loss, JSON.stringify(facts)).not.toBe('timeout');
    }
  });
});

describe('the fate of a queued request when a connect attempt failed', () => {
  const rows: [rule: string, facts: QueuedRequestFacts, fate: QueuedRequestFate][] = [
    ['1. settled already (aborted in the queue): ignored', { settled: true, liveConnection: false }, 'ignore'],
    ['1. settled already, a connection up: ignored', { settled: true, liveConnection: true }, 'ignore'],
    ['2. a connection of the pool is up and takes requests: it waits for it', { settled: false, liveConnection: true }, 'wait'],
    ['3. no connection up: it fails with the connect error', { settled: false, liveConnection: false }, 'fail-not-connected'],
  ];
  it.each(rows)('%s', (_rule, facts, fate) => {
    expect(queuedRequestFate(facts)).toBe(fate);
  });
});
