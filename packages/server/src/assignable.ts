/**
 * Theory of operation: node's `IncomingMessage` and `ServerResponse` hold many of their fields as
 * plain data properties (`req.httpVersionMajor`, `req.rawHeaders`, `res.socket`, `res.finished`…),
 * and code written for node assigns them: a middleware that rewrites `req.headers`, a test that
 * sets `req.httpVersionMajor = 2`. tether computes them on demand with getters. Each such getter
 * gets a setter here that does what assigning node's property does: the object holds the value
 * from then on (an own data property shadows the getter). tether's connection never reads these
 * through the object, so an assignment changes what the handler's code sees and nothing else.
 */

/** Give each getter `names` of `proto` a setter that shadows it on the instance with the value assigned. */
export function assignable(proto: object, names: readonly string[]): void {
  for (const name of names) {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- put back as the same accessor's getter
    const get = Object.getOwnPropertyDescriptor(proto, name)?.get;
    if (get === undefined) throw new TypeError(`${name} is not a getter`);
    Object.defineProperty(proto, name, {
      get,
      set(this: object, value: unknown) {
        Object.defineProperty(this, name, { value, writable: true, configurable: true, enumerable: true });
      },
      enumerable: false,
      configurable: true,
    });
  }
}
