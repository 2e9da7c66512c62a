/**
 * Theory of operation: which of node:http's events answers a request that carries an Expect
 * field, and so whether the server sends `100 Continue` by itself — node's rules
 * (`parserOnIncoming` of node's `_http_server.js`), as one pure function:
 *
 *   Expect, HTTP/1.1        listeners               event                  100 Continue
 *   ---------------------   ---------------------   --------------------   -----------------------------
 *   none (or HTTP/1.0)      —                       'request'              —
 *   100-continue            'checkContinue'         'checkContinue'        the listener's (writeContinue)
 *   100-continue            none                    'request'              the server's, on the first read
 *   anything else           'checkExpectation'      'checkExpectation'     —
 *   anything else           none                    417, no handler        —
 *
 * The handler given to createServer is node's first 'request' listener: the other two events
 * replace it. RFC 9110 §10.1.1: a server MUST ignore 100-continue in an HTTP/1.0 request; node
 * ignores Expect in HTTP/1.0 altogether, and so does this.
 */

import type { HttpVersion } from '@tether/protocol';

/** The events a request can go to (see the table above). */
export type RequestEvent = 'request' | 'checkContinue' | 'checkExpectation';

/** Where a request goes: to an event's listeners, or answered 417 by the server. */
export type ExpectationRoute = RequestEvent | 'expectation-failed';

/** Whether an Expect value holds the `100-continue` expectation (any case, as a list member: RFC 9110 §10.1.1). */
export function expectsContinue(expect: string): boolean {
  for (const member of expect.split(',')) if (member.trim().toLowerCase() === '100-continue') return true;
  return false;
}

/** The route of a request with `expect` (its combined Expect value) by the table above; `listens(event)`: the server has listeners for it. */
export function routeExpectation(expect: string | undefined, version: HttpVersion, listens: (event: 'checkContinue' | 'checkExpectation') => boolean): ExpectationRoute {
  if (expect === undefined || version !== '1.1') return 'request';
  if (expectsContinue(expect)) return listens('checkContinue') ? 'checkContinue' : 'request';
  return listens('checkExpectation') ? 'checkExpectation' : 'expectation-failed';
}
