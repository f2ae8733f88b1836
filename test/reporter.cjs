// Mocha reporter: the spec reporter plus the closing "N passed, N failed"
// line every suite of this project prints. Pending tests are reported as
// skipped and make the run fail: a skipped test is never counted as passing.
'use strict';
const Mocha = require('mocha');
const { Spec } = Mocha.reporters;
const { EVENT_RUN_END } = Mocha.Runner.constants;

class ClosingLineReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats || { passes: 0, failures: 0, pending: 0 };
      if (s.pending > 0) {
        console.log(`${s.pending} skipped: skipped tests are not allowed`);
        process.exitCode = 1;
      }
      console.log(`${s.passes} passed, ${s.failures + s.pending} failed`);
    });
  }
}
module.exports = ClosingLineReporter;
