import { main } from './run.js';

/** The executable entry: `tradekernel ...` (bin/tradekernel.js loads the compiled copy). */
process.exitCode = await main(process.argv);
