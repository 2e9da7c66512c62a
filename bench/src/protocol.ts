/**
 * PLACEHOLDER: the @tether/protocol benchmark is being written separately and
 * will overwrite this file. It exists only so that `pnpm build` and
 * `pnpm bench` / `pnpm demo` have something to compile and run meanwhile.
 */
console.log('@tether/bench: the protocol benchmark is not written yet (bench/src/protocol.ts is a placeholder).');
