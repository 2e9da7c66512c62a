/**
 * The CHANGELOG lines `changeset version` writes: @changesets/cli's own, except that a dependency
 * moving from 0.0.0 (the version of a package never published) is not listed as "Updated
 * dependencies" under "Patch Changes". On a first release that list would only repeat that the
 * other tether packages are released too, as a patch change of a package that has no earlier
 * version; the release's own entry says what the package depends on. Every later update of a
 * dependency is listed as usual. packaging/test/release.test.ts runs `changeset version` on a copy
 * of the repository and checks the result.
 */
'use strict';

const { default: base } = require('@changesets/cli/changelog');

/** The version of every package not yet released (each package.json in packages/ starts at it). */
const UNRELEASED = '0.0.0';

module.exports = {
  getReleaseLine: base.getReleaseLine,
  getDependencyReleaseLine: (changesets, dependenciesUpdated, options) =>
    base.getDependencyReleaseLine(
      changesets,
      dependenciesUpdated.filter((dependency) => dependency.oldVersion !== UNRELEASED),
      options,
    ),
};
